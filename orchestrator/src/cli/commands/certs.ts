// `orrery certs`: a local CA and a server certificate for wss:// and grpcs://.
import type { Command } from 'commander';
import { makeLocalCertificates } from '../../tls/local-ca.js';

export function registerCerts(program: Command): void {
  program
    .command('certs')
    .description('Make a local CA and a server certificate for TLS (wss://, grpcs://, https://) in a home lab')
    .option('-o, --out <dir>', 'where to write ca.pem, server.pem and their keys', '.orrery/certs')
    .option('--hosts <list>', 'names and addresses the server is reached by (comma-separated)', 'localhost,127.0.0.1')
    .option('--days <n>', 'validity in days', (v) => Number.parseInt(v, 10), 825)
    .action((opts: { out: string; hosts: string; days: number }) => {
      const hosts = opts.hosts.split(',').map((h) => h.trim()).filter(Boolean);
      const f = makeLocalCertificates(opts.out, hosts, opts.days);
      process.stdout.write(
        [
          `wrote ${f.caCert} (keep ${f.caKey} private), ${f.serverCert} and ${f.serverKey} for ${hosts.join(', ')}`,
          'next:',
          `  orrery server --host 0.0.0.0 --tls-cert ${f.serverCert} --tls-key ${f.serverKey} --grpc-port 7071`,
          `  orrery agent --server wss://${hosts[0]}:7070/v1/aip --ca ${f.caCert} --name <device> --token <enrollment token>`,
          '',
        ].join('\n'),
      );
    });
}
