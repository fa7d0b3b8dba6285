// Agents on every transport run the same graph: ws://, grpc://, and with a
// local CA from `orrery certs`, wss:// and grpcs://.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type AgentHandle, api, CLI, type OrchestratorHandle, startAgent, startOrchestrator, waitFor } from '../../scripts/testing/stack.js';

const procs: Array<AgentHandle | OrchestratorHandle> = [];
afterEach(async () => {
  await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
});

type C = { id: string; status: string; tasks: Record<string, { status: string; attempts: Array<{ deviceId: string }>; outputs: Record<string, string> }> };

async function runOnEach(orch: OrchestratorHandle, names: string[]): Promise<void> {
  await waitFor(async () => {
    const { items } = await api<{ items: Array<{ name: string; status: string }> }>(orch.url, 'GET', '/v1/devices');
    return names.every((n) => items.some((d) => d.name === n && d.status === 'online'));
  }, `${names.join(', ')} online`);
  const tasks: Record<string, unknown> = {};
  for (const n of names) tasks[`on-${n}`] = { target: { device: n }, run: `echo ran on ${n}`, outputs: { said: 'stdout' } };
  const c = await api<C>(orch.url, 'POST', '/v1/constellations', { name: 'transports', tasks });
  const done = await waitFor(async () => {
    const s = await api<C>(orch.url, 'GET', `/v1/constellations/${c.id}`);
    return s.status === 'succeeded' || s.status === 'failed' ? s : undefined;
  }, 'the graph to finish');
  expect(done.status).toBe('succeeded');
  for (const n of names) expect(done.tasks[`on-${n}`]?.outputs.said).toBe(`ran on ${n}`);
}

describe('transports', () => {
  it('serves WebSocket and gRPC agents at once', async () => {
    const orch = await startOrchestrator({ args: ['--grpc-port', '0'] });
    procs.push(orch);
    expect(orch.grpcUrl).toMatch(/^grpc:\/\/127\.0\.0\.1:\d+$/);
    procs.push(startAgent({ server: orch.aipUrl, name: 'ws-agent' }), startAgent({ server: orch.grpcUrl as string, name: 'grpc-agent' }));
    await runOnEach(orch, ['ws-agent', 'grpc-agent']);
  });

  it('serves wss and grpcs with certificates from `orrery certs`, verified against its CA', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'orrery-certs-'));
    const made = spawnSync(process.execPath, [CLI, 'certs', '--out', dir, '--hosts', 'localhost,127.0.0.1'], { encoding: 'utf8' });
    expect(made.status, made.stderr).toBe(0);
    const orch = await startOrchestrator({
      args: ['--grpc-port', '0', '--tls-cert', join(dir, 'server.pem'), '--tls-key', join(dir, 'server-key.pem')],
    });
    procs.push(orch);
    expect(orch.url).toMatch(/^https:/);
    expect(orch.aipUrl).toMatch(/^wss:/);
    const ca = ['--ca', join(dir, 'ca.pem')];
    procs.push(
      startAgent({ server: orch.aipUrl, name: 'wss-agent', args: ca }),
      startAgent({ server: (orch.grpcUrl as string).replace('127.0.0.1', 'localhost'), name: 'grpcs-agent', args: ca }),
    );
    // Only this test process's own fetch skips verification (vitest forks a
    // process per file); the agents above verify the server against ca.pem.
    process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';
    await runOnEach(orch, ['wss-agent', 'grpcs-agent']);

    // An agent that does not trust the CA is refused by its own TLS check.
    const untrusting = startAgent({ server: orch.aipUrl, name: 'no-ca' });
    procs.push(untrusting);
    await waitFor(() => /certificate|self.signed|UNABLE_TO|TLS/i.test(untrusting.output()), 'the TLS failure to be reported', 15_000);
  });
});
