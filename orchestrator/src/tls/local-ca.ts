// `orrery certs`: a local certificate authority and a server certificate for
// a home lab, made with the openssl command (Node cannot mint X.509
// certificates itself). Agents verify the server with --ca ca.pem.
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { OrreryError } from '../errors.js';

export interface LocalCertificates {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') {
      throw new OrreryError('OPENSSL_MISSING', 'The openssl command is needed to make certificates', {
        hint: 'Install it (apt-get install openssl, brew install openssl), or bring your own certificate and key.',
      });
    }
    throw new OrreryError('CERTS_FAILED', `openssl ${args[0]} failed: ${e.stderr?.toString().trim() ?? e.message}`);
  }
}

/** Makes ca.pem/ca-key.pem (reused when present) and server.pem/server-key.pem for `hosts`. */
export function makeLocalCertificates(outDir: string, hosts: string[], days = 825): LocalCertificates {
  mkdirSync(outDir, { recursive: true });
  const files: LocalCertificates = {
    caCert: join(outDir, 'ca.pem'),
    caKey: join(outDir, 'ca-key.pem'),
    serverCert: join(outDir, 'server.pem'),
    serverKey: join(outDir, 'server-key.pem'),
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  if (!existsSync(files.caCert) || !existsSync(files.caKey)) {
    openssl(
      ['req', '-x509', ...ec, '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', String(days), '-subj', '/CN=Orrery local CA',
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
      outDir,
    );
  }
  const san = hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',');
  writeFileSync(join(outDir, 'server.ext'), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
  openssl(['req', ...ec, '-keyout', 'server-key.pem', '-out', 'server.csr', '-subj', `/CN=${hosts[0] ?? 'localhost'}`], outDir);
  openssl(
    ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', 'server.pem',
      '-days', String(days), '-extfile', 'server.ext'],
    outDir,
  );
  chmodSync(files.caKey, 0o600);
  chmodSync(files.serverKey, 0o600);
  return files;
}
