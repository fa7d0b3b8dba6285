// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} is the template syntax under test
// End to end: a real orchestrator and real agent processes run http, mcp and
// adb tasks (against a local HTTP server, a real MCP server over stdio, and
// a fake adb on the agent's PATH), and enforce the device's allowlist.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  api,
  REPO_ROOT,
  type Stack,
  startAgent,
  startOrchestrator,
  startStack,
  waitFor,
} from '../../scripts/testing/stack.js';

type Attempt = { deviceId: string; outcome?: string; exitCode?: number; error?: string };
type Task = { status: string; outputs: Record<string, string>; attempts: Attempt[]; waitingReason?: string };
type C = { id: string; status: string; tasks: Record<string, Task> };

const FIXTURES = join(REPO_ROOT, 'device-agent', 'test', 'fixtures');
const MCP_SERVER = join(FIXTURES, 'mcp-server.mjs');
const work = mkdtempSync(join(tmpdir(), 'orrery-e2e-exec-'));
const adbState = join(work, 'adb');
mkdirSync(adbState);
writeFileSync(join(adbState, 'devices.json'), JSON.stringify({ 'emulator-5554': 'device' }));

let stack: Stack;
let http: Server;
let httpBase: string;
const received: Array<{ method: string; url: string; body: string }> = [];

beforeAll(async () => {
  http = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => {
      body += d.toString();
    });
    req.on('end', () => {
      received.push({ method: req.method ?? '', url: req.url ?? '', body });
      if (req.url === '/items' && req.method === 'POST') {
        res.writeHead(201, { 'content-type': 'application/json', location: '/items/42' });
        res.end(JSON.stringify({ id: 42, name: (JSON.parse(body) as { name: string }).name }));
      } else {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('maintenance window');
      }
    });
  });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  httpBase = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  stack = await startStack({
    // A loaded machine can starve heartbeats; a lost device would muddle the attempt lists.
    heartbeatMs: 1500,
    agents: [
      {
        name: 'hub',
        labels: ['hub'],
        slots: 2,
        env: {
          PATH: `${join(FIXTURES, 'fake-adb')}:${process.env.PATH}`,
          FAKE_ADB_STATE: adbState,
          ORRERY_TEST_SECRET: 'agent-only-9f8e7d',
        },
      },
      {
        name: 'locked',
        labels: ['locked'],
        args: [
          '--executors',
          'shell,http',
          '--allow-shell',
          'echo *',
          '--allow-http',
          'localhost',
          '--max-log-bytes',
          '2048',
        ],
      },
    ],
  });
});

afterAll(async () => {
  await stack?.stop();
  http?.closeAllConnections();
  await new Promise((r) => http?.close(r));
});

const submit = (graph: unknown): Promise<C> => api<C>(stack.url, 'POST', '/v1/constellations', graph);
const get = (id: string): Promise<C> => api<C>(stack.url, 'GET', `/v1/constellations/${id}`);
const finished = (id: string): Promise<C> =>
  waitFor(
    async () => {
      const c = await get(id);
      return ['succeeded', 'failed', 'cancelled'].includes(c.status) ? c : undefined;
    },
    `constellation ${id} to finish`,
    30_000,
  );
const logs = (id: string, task: string): Promise<string> =>
  api<string>(stack.url, 'GET', `/v1/constellations/${id}/tasks/${task}/logs`);

describe('executors on real agents', () => {
  it('advertises adb only on the agent that has it, and only the allowed kinds on the locked one', async () => {
    const { items } = await api<{ items: Array<{ name: string; capabilities: { executors: string[] } }> }>(
      stack.url,
      'GET',
      '/v1/devices',
    );
    expect(items.find((d) => d.name === 'hub')?.capabilities.executors).toEqual(['shell', 'http', 'mcp', 'adb']);
    expect(items.find((d) => d.name === 'locked')?.capabilities.executors).toEqual(['shell', 'http']);
  });

  it('http: POSTs JSON, and status, header and body fields feed a downstream task', async () => {
    const c = await submit({
      name: 'http-e2e',
      inputs: { thing: 'widget', api: httpBase },
      tasks: {
        create: {
          target: { labels: ['hub'] },
          executor: {
            kind: 'http',
            args: { method: 'POST', url: '${{ inputs.api }}/items', body: { name: '${{ inputs.thing }}' } },
          },
          outputs: { code: 'status', id: { json: 'id' }, where: { header: 'Location' } },
        },
        report: {
          needs: ['create'],
          target: { labels: ['hub'] },
          run: 'echo "${{ tasks.create.outputs.code }} ${{ tasks.create.outputs.id }} ${{ tasks.create.outputs.where }}"',
          outputs: { line: 'stdout' },
        },
        down: { target: { labels: ['hub'] }, executor: { kind: 'http', args: { url: `${httpBase}/health` } } },
      },
    });
    const done = await finished(c.id);
    expect(done.tasks.create?.outputs).toEqual({ code: '201', id: '42', where: '/items/42' });
    expect(done.tasks.report?.outputs.line).toBe('201 42 /items/42');
    expect(received.find((r) => r.url === '/items')?.body).toBe('{"name":"widget"}');
    expect(await logs(c.id, 'create')).toContain('{"id":42,"name":"widget"}');
    expect(done.tasks.down?.status).toBe('failed');
    expect(done.tasks.down?.attempts.at(-1)?.error).toBe('HTTP_STATUS: expected 2xx, got 503 Service Unavailable');
    expect(await logs(c.id, 'down')).toContain('maintenance window');
  });

  it('mcp: calls a tool of a real MCP server and passes its result on; a tool error fails the task', async () => {
    const server = { command: process.execPath, args: [MCP_SERVER] };
    const c = await submit({
      name: 'mcp-e2e',
      tasks: {
        add: {
          executor: { kind: 'mcp', args: { server, tool: 'add', arguments: { a: 20, b: 22 } } },
          outputs: { sum: { json: 'sum' }, text: 'stdout' },
        },
        show: { needs: ['add'], run: 'echo "sum=${{ tasks.add.outputs.sum }}"', outputs: { line: 'stdout' } },
        broken: { executor: { kind: 'mcp', args: { server, tool: 'fail' } } },
      },
    });
    const done = await finished(c.id);
    expect(done.tasks.add?.outputs).toEqual({ sum: '42', text: '42' });
    expect(done.tasks.show?.outputs.line).toBe('sum=42');
    // The locked agent does not offer mcp: both ran on hub.
    expect(done.tasks.add?.attempts.every((a) => a.deviceId === 'dev-hub')).toBe(true);
    expect(done.tasks.broken?.attempts.at(-1)?.error).toBe('MCP_TOOL_ERROR: disk on fire');
  });

  it('adb: pushes, runs and pulls on the attached device through the agent that has adb', async () => {
    const c = await submit({
      name: 'adb-e2e',
      tasks: {
        phone: {
          // adb's local files are the work dir's: here the file the agent writes for input `app`.
          inputs: { app: 'fake apk contents' },
          executor: {
            kind: 'adb',
            args: {
              push: { local: '.orrery/inputs/app', remote: '/data/local/tmp/app.txt' },
              shell: 'wc -c < data/local/tmp/app.txt > sdcard/size.txt && echo installed',
              pull: { remote: '/sdcard/size.txt', local: 'size.txt' },
            },
          },
          outputs: { said: 'stdout', size: { file: 'size.txt' } },
        },
      },
    });
    const done = await finished(c.id);
    expect(done.tasks.phone?.attempts.at(-1)?.error ?? '').toBe('');
    expect(done.status).toBe('succeeded');
    expect(done.tasks.phone?.outputs).toEqual({ said: 'installed', size: '17\n' });
    expect(done.tasks.phone?.attempts.at(-1)?.deviceId).toBe('dev-hub');
    const calls = readFileSync(join(adbState, 'calls.log'), 'utf8');
    expect(calls).toContain('["-s","emulator-5554","shell"');
  });

  it('keeps tasks off a device whose allowlist refuses them, saying which setting to change', async () => {
    const c = await submit({
      name: 'locked-e2e',
      tasks: {
        fine: { target: { device: 'locked' }, run: 'echo allowed here', outputs: { o: 'stdout' } },
        refused: { target: { device: 'locked' }, run: 'rm -rf /tmp/not-there' },
        host: { target: { device: 'locked' }, executor: { kind: 'http', args: { url: `${httpBase}/items` } } },
        chatty: { target: { device: 'locked' }, run: 'echo $(seq 1 3000)' },
      },
    });
    const refused = await waitFor(async () => {
      const s = await get(c.id);
      const tasks = [s.tasks.refused, s.tasks.host];
      return tasks.every((t) => t?.attempts.some((a) => a.error?.includes('NOT_ALLOWED'))) &&
        s.tasks.fine?.status === 'succeeded'
        ? s
        : undefined;
    }, 'the locked device to refuse');
    expect(refused.tasks.fine?.outputs.o).toBe('allowed here');
    expect(refused.tasks.refused?.attempts.find((a) => a.error)?.error).toContain('COMMAND_NOT_ALLOWED');
    expect(refused.tasks.refused?.attempts.find((a) => a.error)?.error).toContain(
      'add one to allow.shell in the agent config or pass --allow-shell',
    );
    expect(refused.tasks.host?.attempts.find((a) => a.error)?.error).toContain('http host "127.0.0.1:');
    expect(refused.tasks.refused?.status).not.toBe('succeeded');
    // A lasting refusal takes the device out of the task's candidates: it is not asked again and
    // again (before, a rejected task was re-sent every second), and the waiting reason says why.
    await new Promise((r) => setTimeout(r, 3_000));
    const later = await get(c.id);
    expect(later.tasks.refused?.attempts.filter((a) => a.error?.includes('NOT_ALLOWED'))).toHaveLength(1);
    expect(later.tasks.refused?.waitingReason).toContain('every matching one refused it');
    // --max-log-bytes: the log stops at 2048 bytes, with one line saying so.
    await waitFor(async () => (await get(c.id)).tasks.chatty?.status === 'succeeded', 'the chatty task');
    const chatty = await logs(c.id, 'chatty');
    expect(chatty).toContain('output truncated: 2048 bytes forwarded');
    expect(chatty.length).toBeLessThan(2048 + 500);
    await api(stack.url, 'POST', `/v1/constellations/${c.id}/cancel`, {});
  });

  it("runs `env` in a task: the agent's ORRERY_* settings and secrets are not there", async () => {
    const c = await submit({
      name: 'env-e2e',
      tasks: { env: { target: { device: 'hub' }, run: 'env', outputs: { env: 'stdout' } } },
    });
    const done = await finished(c.id);
    const env = done.tasks.env?.outputs.env ?? '';
    expect(env).toContain('FAKE_ADB_STATE='); // the agent's ordinary environment is inherited
    expect(env).not.toContain('agent-only-9f8e7d');
    expect(env).not.toContain('ORRERY_LOG_FORMAT');
    expect(env).not.toContain(join(stack.agents[0]!.dataDir, 'credentials.json'));
  });
});

describe('an enrolled agent', () => {
  it("never hands its enrollment token or credential to a task's environment", async () => {
    const orch = await startOrchestrator({ auth: true, heartbeatMs: 1500 });
    const admin = readFileSync(join(orch.dataDir, 'admin-token'), 'utf8').trim();
    const call = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
      const res = await fetch(new URL(path, orch.url), {
        method,
        headers: { authorization: `Bearer ${admin}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return (await res.json()) as Record<string, unknown>;
    };
    const token = (await call('POST', '/v1/admin/enrollment-tokens', { maxUses: 1 })).token as string;
    const agent = startAgent({
      server: orch.aipUrl,
      name: 'enrolled',
      env: { ORRERY_ENROLL_TOKEN: token, TOKEN_COPY: token },
    });
    try {
      const c = (await call('POST', '/v1/constellations', {
        name: 'env',
        tasks: { env: { run: 'env', outputs: { env: 'stdout' } } },
      })) as unknown as C;
      const done = await waitFor(
        async () => {
          const s = (await call('GET', `/v1/constellations/${c.id}`)) as unknown as C;
          return s.status === 'succeeded' || s.status === 'failed' ? s : undefined;
        },
        'the env task',
        30_000,
      );
      const env = done.tasks.env?.outputs.env ?? '';
      const { credential } = JSON.parse(readFileSync(join(agent.dataDir, 'credentials.json'), 'utf8')) as {
        credential: string;
      };
      expect(credential.length).toBeGreaterThan(8);
      expect(env).toContain('PATH=');
      expect(env).not.toContain(token);
      expect(env).not.toContain(credential);
      expect(env).not.toContain(join(agent.dataDir, 'credentials.json'));
    } finally {
      await agent.kill('SIGKILL');
      await orch.kill('SIGTERM');
    }
  });
});
