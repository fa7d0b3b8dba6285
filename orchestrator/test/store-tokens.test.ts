import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type DeviceRecord,
  type SqliteStore,
  generateSecret,
  hashSecret,
  openSqliteStore,
  verifySecret,
} from '../src/store/index.js';

let dataDir: string;
let store: SqliteStore;

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'orrery-tokens-'));
  store = openSqliteStore({ dataDir });
});

afterEach(() => {
  store.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** Every byte the store has on disk (main file, WAL, shared memory). */
function bytesOnDisk(): string {
  return readdirSync(dataDir)
    .map((f) => readFileSync(join(dataDir, f)).toString('latin1'))
    .join('\n');
}

const deviceSecretHash = hashSecret('device-secret');

function device(overrides: Partial<DeviceRecord> = {}): DeviceRecord {
  return {
    id: 'dev-1',
    name: 'jetson',
    credentialHash: deviceSecretHash,
    labels: ['edge', 'gpu'],
    revoked: false,
    createdAt: 1000,
    lastSeenAt: null,
    ...overrides,
  };
}

describe('secrets', () => {
  it('hashes with a per-secret salt and verifies only the right secret', () => {
    const secret = generateSecret();
    const a = hashSecret(secret);
    const b = hashSecret(secret);
    expect(a).not.toBe(b);
    expect(a).not.toContain(secret);
    expect(verifySecret(secret, a)).toBe(true);
    expect(verifySecret(secret, b)).toBe(true);
    expect(verifySecret(`${secret}x`, a)).toBe(false);
    expect(verifySecret(secret, 'garbage')).toBe(false);
    expect(verifySecret(secret, 'sha256$salt$short')).toBe(false);
  });
});

describe('enrollment tokens', () => {
  it('counts uses up to maxUses, then refuses', () => {
    const { token, info } = store.createEnrollmentToken({ maxUses: 2, labels: ['lab'] });
    expect(info).toMatchObject({ maxUses: 2, uses: 0, labels: ['lab'], revoked: false });
    expect(store.consumeEnrollmentToken(token)).toMatchObject({ ok: true, token: { uses: 1, labels: ['lab'] } });
    expect(store.consumeEnrollmentToken(token)).toMatchObject({ ok: true, token: { uses: 2 } });
    expect(store.consumeEnrollmentToken(token)).toEqual({ ok: false, reason: 'exhausted' });
    expect(store.listEnrollmentTokens()[0]?.uses).toBe(2);
  });

  it('refuses expired, revoked, unknown and tampered tokens', () => {
    const now = Date.now();
    const expiring = store.createEnrollmentToken({ expiresAt: now + 60_000 });
    expect(store.consumeEnrollmentToken(expiring.token, now).ok).toBe(true);
    expect(store.consumeEnrollmentToken(expiring.token, now + 60_000)).toEqual({ ok: false, reason: 'expired' });

    const revoked = store.createEnrollmentToken();
    expect(store.revokeEnrollmentToken(revoked.info.id)).toBe(true);
    expect(store.revokeEnrollmentToken('nope')).toBe(false);
    expect(store.consumeEnrollmentToken(revoked.token)).toEqual({ ok: false, reason: 'revoked' });

    const good = store.createEnrollmentToken();
    expect(store.consumeEnrollmentToken(`${good.token}x`)).toEqual({ ok: false, reason: 'unknown' });
    expect(store.consumeEnrollmentToken('not-a-token')).toEqual({ ok: false, reason: 'unknown' });
    expect(store.consumeEnrollmentToken('')).toEqual({ ok: false, reason: 'unknown' });
    expect(store.consumeEnrollmentToken(good.token).ok).toBe(true); // unlimited uses
    expect(store.consumeEnrollmentToken(good.token).ok).toBe(true);
  });

  it('rejects a non-positive maxUses', () => {
    expect(() => store.createEnrollmentToken({ maxUses: 0 })).toThrowError(
      expect.objectContaining({ code: 'STORE_INVALID_ARGUMENT' }),
    );
  });
});

describe('API tokens', () => {
  it('verifies to the role, lists without secrets, and stops verifying once revoked', () => {
    const admin = store.createApiToken({ role: 'admin', name: 'ci' });
    const viewer = store.createApiToken({ role: 'viewer' });
    expect(store.verifyApiToken(admin.token)).toBe('admin');
    expect(store.verifyApiToken(viewer.token)).toBe('viewer');
    const lastChar = admin.token.slice(-1);
    const tampered = `${admin.token.slice(0, -1)}${lastChar === 'A' ? 'B' : 'A'}`;
    expect(store.verifyApiToken(tampered)).toBeUndefined();
    expect(store.verifyApiToken(admin.token.replace('orra_', 'orre_'))).toBeUndefined();
    const listed = store.listApiTokens();
    expect(listed.map((t) => t.role).sort()).toEqual(['admin', 'viewer']);
    expect(JSON.stringify(listed)).not.toContain(admin.token.split('.')[1]);
    expect(listed.find((t) => t.id === admin.info.id)?.lastUsedAt).not.toBeNull();
    expect(store.revokeApiToken(admin.info.id)).toBe(true);
    expect(store.verifyApiToken(admin.token)).toBeUndefined();
    expect(store.verifyApiToken(viewer.token)).toBe('viewer');
  });

  it('refuses an unknown role', () => {
    expect(() => store.createApiToken({ role: 'root' as 'admin' })).toThrowError(
      expect.objectContaining({ code: 'STORE_INVALID_ARGUMENT' }),
    );
  });
});

describe('secrets at rest', () => {
  it('never writes a plain token or credential to the database files', () => {
    const enroll = store.createEnrollmentToken();
    const api = store.createApiToken({ role: 'operator' });
    const credential = generateSecret();
    store.putDevice(device({ credentialHash: hashSecret(credential) }));
    store.consumeEnrollmentToken(enroll.token);
    const secrets = [enroll.token, api.token, credential].map((t) => t.split('.').pop() as string);
    for (const secret of secrets) expect(bytesOnDisk()).not.toContain(secret);
    store.close();
    for (const secret of secrets) expect(bytesOnDisk()).not.toContain(secret);
    store = openSqliteStore({ dataDir });
    expect(store.verifyApiToken(api.token)).toBe('operator');
  });
});

describe('devices', () => {
  it('stores, finds, updates, touches and revokes devices', () => {
    store.putDevice(device());
    store.putDevice(device({ id: 'dev-2', name: 'phone', labels: [] }));
    expect(store.getDevice('dev-1')).toEqual(device());
    expect(store.getDeviceByName('phone')?.id).toBe('dev-2');
    expect(store.getDevice('nope')).toBeUndefined();
    expect(store.listDevices().map((d) => d.id)).toEqual(['dev-1', 'dev-2']);
    store.putDevice(device({ labels: ['edge'] }));
    expect(store.getDevice('dev-1')?.labels).toEqual(['edge']);
    store.touchDevice('dev-1', 5000);
    expect(store.getDevice('dev-1')?.lastSeenAt).toBe(5000);

    expect(store.verifyDeviceCredential('dev-1', 'device-secret')?.id).toBe('dev-1');
    expect(store.verifyDeviceCredential('dev-1', 'wrong')).toBeUndefined();
    expect(store.revokeDevice('dev-1')).toBe(true);
    expect(store.revokeDevice('nope')).toBe(false);
    expect(store.getDevice('dev-1')?.revoked).toBe(true);
    expect(store.verifyDeviceCredential('dev-1', 'device-secret')).toBeUndefined();
  });

  it('refuses a second live device with the same name as STORE_CONFLICT', () => {
    store.putDevice(device());
    expect(() => store.putDevice(device({ id: 'dev-9' }))).toThrowError(
      expect.objectContaining({ code: 'STORE_CONFLICT' }),
    );
    // Once revoked, the name is free again; lookups by name find the live one.
    store.revokeDevice('dev-1');
    store.putDevice(device({ id: 'dev-9', createdAt: 2000 }));
    expect(store.getDeviceByName('jetson')?.id).toBe('dev-9');
  });
});

describe('enrollDevice', () => {
  const request = (id: string, name: string) => ({ id, name, credentialHash: hashSecret(`${id}-secret`), labels: ['extra'] });

  it('consumes the token and registers the device with the token labels in one step', () => {
    const { token } = store.createEnrollmentToken({ maxUses: 1, labels: ['lab'] });
    const result = store.enrollDevice(token, request('d-1', 'pi'));
    expect(result).toMatchObject({ ok: true, device: { id: 'd-1', name: 'pi', labels: ['lab', 'extra'], revoked: false } });
    expect(store.verifyDeviceCredential('d-1', 'd-1-secret')?.name).toBe('pi');
    expect(store.enrollDevice(token, request('d-2', 'pi2'))).toEqual({ ok: false, reason: 'exhausted' });
    expect(store.getDevice('d-2')).toBeUndefined();
  });

  it('does not count a use when the name belongs to a live device, and allows it after revocation', () => {
    const { token, info } = store.createEnrollmentToken({ maxUses: 1 });
    store.putDevice(device({ id: 'old', name: 'pi' }));
    expect(store.enrollDevice(token, request('d-1', 'pi'))).toEqual({ ok: false, reason: 'name_taken' });
    expect(store.listEnrollmentTokens().find((t) => t.id === info.id)?.uses).toBe(0);
    expect(store.getDevice('d-1')).toBeUndefined();
    store.revokeDevice('old');
    expect(store.enrollDevice(token, request('d-1', 'pi')).ok).toBe(true);
    expect(store.getDeviceByName('pi')?.id).toBe('d-1');
  });

  it('answers a bad token before anything about names', () => {
    store.putDevice(device({ id: 'old', name: 'pi' }));
    expect(store.enrollDevice('orre_nope.nope', request('d-1', 'pi'))).toEqual({ ok: false, reason: 'unknown' });
  });
});
