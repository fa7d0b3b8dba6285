// The device's identity: device id and per-device secret from enrollment,
// kept in <dataDir>/credentials.json with mode 0600 (readable by the agent's
// user only). Written atomically so a crash never leaves half a secret.
import { chmodSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { writeFileDurable } from './durable-file.js';
import { AgentError } from './errors.js';

export interface DeviceCredentials {
  deviceId: string;
  credential: string;
}

export const CREDENTIALS_FILE = 'credentials.json';

export function credentialsPath(dataDir: string): string {
  return path.join(dataDir, CREDENTIALS_FILE);
}

/** Loads credentials, or undefined when the file does not exist yet. */
export function loadCredentials(dataDir: string): DeviceCredentials | undefined {
  const file = credentialsPath(dataDir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AgentError('AGENT_CREDENTIALS', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) {
    // A secret others can read is a leak; tighten it rather than refuse to start.
    chmodSync(file, 0o600);
  }
  try {
    const parsed = JSON.parse(text) as Partial<DeviceCredentials>;
    return { deviceId: String(parsed.deviceId ?? ''), credential: String(parsed.credential ?? '') };
  } catch (err) {
    throw new AgentError('AGENT_CREDENTIALS', `${file} is not valid JSON`, { cause: err });
  }
}

export function saveCredentials(dataDir: string, creds: DeviceCredentials): void {
  writeFileDurable(credentialsPath(dataDir), `${JSON.stringify(creds, null, 2)}\n`, 0o600);
}

/**
 * A one-time enrollment token may wait in <dataDir>/enroll-token (mode 0600)
 * instead of on the command line, so it never lands in a service file or ps.
 */
export const ENROLL_TOKEN_FILE = 'enroll-token';

export function readEnrollTokenFile(dataDir: string): string {
  try {
    return readFileSync(path.join(dataDir, ENROLL_TOKEN_FILE), 'utf8').trim();
  } catch {
    return '';
  }
}

export function writeEnrollTokenFile(dataDir: string, token: string): void {
  writeFileDurable(path.join(dataDir, ENROLL_TOKEN_FILE), `${token}\n`, 0o600);
}

export function removeEnrollTokenFile(dataDir: string): void {
  rmSync(path.join(dataDir, ENROLL_TOKEN_FILE), { force: true });
}
