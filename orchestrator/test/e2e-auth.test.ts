// Authentication with auth on: API tokens with roles, device enrollment with
// one-time tokens, per-device credentials stored 0600, revocation.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AgentHandle, type OrchestratorHandle, startAgent, startOrchestrator, waitFor } from '../../scripts/testing/stack.js';

let orch: OrchestratorHandle;
let admin: string;
const agents: AgentHandle[] = [];

beforeAll(async () => {
  orch = await startOrchestrator({ auth: true, heartbeatMs: 300 });
  admin = readFileSync(join(orch.dataDir, 'admin-token'), 'utf8').trim();
});
afterAll(async () => {
  await Promise.all(agents.map((a) => a.kill('SIGKILL')));
  await orch?.kill('SIGTERM');
});

async function call(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await fetch(new URL(path, orch.url), {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('authentication', () => {
  it('keeps the admin token file private', () => {
    expect(statSync(join(orch.dataDir, 'admin-token')).mode & 0o777).toBe(0o600);
  });

  it('requires an API token and enforces roles', async () => {
    const anonymous = await call('GET', '/v1/constellations');
    expect(anonymous.status).toBe(401);
    expect(anonymous.json.code).toBe('UNAUTHENTICATED');
    expect((await call('GET', '/v1/constellations', 'orrery_wrong')).status).toBe(401);

    const viewer = (await call('POST', '/v1/admin/api-tokens', admin, { role: 'viewer' })).json.token as string;
    expect((await call('GET', '/v1/constellations', viewer)).status).toBe(200);
    const denied = await call('POST', '/v1/constellations', viewer, { name: 'x', tasks: { a: { run: 'true' } } });
    expect(denied.status).toBe(403);
    expect(denied.json.code).toBe('FORBIDDEN');
    expect((await call('POST', '/v1/admin/api-tokens', viewer, { role: 'admin' })).status).toBe(403);
    // Health stays open for probes.
    expect((await fetch(new URL('/healthz', orch.url))).status).toBe(200);

    // Percent-escapes cannot dodge the rules: the role is decided on the matched route.
    expect((await call('POST', '/%761/admin/api-tokens', undefined, { role: 'admin' })).status).toBe(401);
    expect((await call('POST', '/v%31/admin/enrollment-tokens', undefined, {})).status).toBe(401);
    expect((await call('POST', '/v1/%61dmin/api-tokens', viewer, { role: 'admin' })).status).toBe(403);
    expect((await call('GET', `/v1/constellations?access_token=${viewer}`)).status).toBe(401);
  });

  it('enrolls a device with a one-time token, grants its labels, and revokes it', async () => {
    const enroll = await call('POST', '/v1/admin/enrollment-tokens', admin, { labels: ['gpu'], maxUses: 1 });
    expect(enroll.status).toBe(201);
    const token = enroll.json.token as string;

    const agent = startAgent({ server: orch.aipUrl, name: 'enrolled', args: ['--token', token] });
    agents.push(agent);
    const device = await waitFor(async () => {
      const { json } = await call('GET', '/v1/devices', admin);
      return (json.items as Array<{ id: string; name: string; status: string; labels: string[] }>).find(
        (d) => d.name === 'enrolled' && d.status === 'online',
      );
    }, 'the enrolled device to come online');
    expect(device.labels).toContain('gpu');
    const files = ['credentials.json', 'credentials'].map((f) => join(agent.dataDir, f));
    const credFile = files.find((f) => {
      try {
        return statSync(f).isFile();
      } catch {
        return false;
      }
    });
    expect(credFile, 'the agent stores its credential').toBeDefined();
    expect(statSync(credFile as string).mode & 0o777).toBe(0o600);

    // The token was single-use.
    const second = startAgent({ server: orch.aipUrl, name: 'second', args: ['--token', token] });
    agents.push(second);
    const code = await Promise.race([second.exited, new Promise((r) => setTimeout(() => r('running'), 15_000))]);
    expect(code).not.toBe(0);
    expect(code).not.toBe('running');

    // An agent with no credential at all is refused.
    const stranger = startAgent({ server: orch.aipUrl, name: 'stranger' });
    agents.push(stranger);
    const strangerCode = await Promise.race([stranger.exited, new Promise((r) => setTimeout(() => r('running'), 15_000))]);
    expect(strangerCode).not.toBe(0);
    expect(stranger.output()).toMatch(/AIP_UNAUTHENTICATED|enroll/i);

    // Revocation closes the session at once and the device cannot come back.
    const revoked = await call('POST', `/v1/devices/${device.id}/revoke`, admin, {});
    expect(revoked.status).toBe(200);
    const agentCode = await Promise.race([agent.exited, new Promise((r) => setTimeout(() => r('running'), 15_000))]);
    expect(agentCode).not.toBe('running');
    expect(agent.output()).toMatch(/AIP_REVOKED|revoked/i);
  });
});
