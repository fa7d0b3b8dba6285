// Hashing for bearer secrets (device credentials, enrollment and API tokens).
// The secrets are 256-bit random values, not passwords, so a salted SHA-256 is
// enough: brute force is infeasible and verification stays cheap enough for
// every request. A slow KDF (scrypt) would only add latency here.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const SCHEME = 'sha256';

/** A new random secret, URL-safe. */
export function generateSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

/** `sha256$<salt>$<digest>`, both base64url. */
export function hashSecret(secret: string): string {
  const salt = randomBytes(16).toString('base64url');
  return `${SCHEME}$${salt}$${digest(salt, secret).toString('base64url')}`;
}

/** Constant-time comparison of a presented secret against a stored hash. */
export function verifySecret(secret: string, stored: string): boolean {
  const parts = stored.split('$');
  if (parts.length !== 3 || parts[0] !== SCHEME) return false;
  const salt = parts[1] as string;
  const expected = Buffer.from(parts[2] as string, 'base64url');
  const actual = digest(salt, secret);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

function digest(salt: string, secret: string): Buffer {
  return createHash('sha256').update(salt).update('\0').update(secret).digest();
}

/**
 * Plain tokens look like `<prefix>_<id>.<secret>`: the id finds the row, the
 * secret is checked against its hash. The id is hex so it never holds `.`.
 */
export function formatToken(prefix: string, id: string, secret: string): string {
  return `${prefix}_${id}.${secret}`;
}

export function parseToken(prefix: string, token: string): { id: string; secret: string } | undefined {
  if (!token.startsWith(`${prefix}_`)) return undefined;
  const rest = token.slice(prefix.length + 1);
  const dot = rest.indexOf('.');
  if (dot <= 0 || dot === rest.length - 1) return undefined;
  return { id: rest.slice(0, dot), secret: rest.slice(dot + 1) };
}

export function generateTokenId(): string {
  return randomBytes(8).toString('hex');
}
