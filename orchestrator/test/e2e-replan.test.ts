// Replanning end to end with real orchestrator and agent processes and the
// built-in planner: a task that fails for good on one device -> a proposal
// -> approved (CLI) -> the task runs again elsewhere and the run succeeds;
// the auto policy; requests with hints; stale proposals; rejection; the
// per-constellation bound; SSE proposal events; the audit log; and the
// `orrery plan` preview.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AgentHandle,
  api,
  CLI,
  type OrchestratorHandle,
  spawnCli,
  startAgent,
  startOrchestrator,
  waitFor,
} from '../../scripts/testing/stack.js';

interface ProposalView {
  id: string;
  status: string;
  comment: string;
  trigger: string;
  taskId?: string;
  revision: number;
  decidedBy?: string;
  operations: Array<{ op: string }>;
}
interface Task {
  status: string;
  attempts: Array<{ deviceId: string }>;
}
interface Constellation {
  id: string;
  status: string;
  revision: number;
  replan?: string;
  tasks: Record<string, Task>;
}

let orch: OrchestratorHandle;
const agents: AgentHandle[] = [];
let deviceIds: Record<string, string> = {};

beforeAll(async () => {
  orch = await startOrchestrator({ args: ['--replan-max', '3'] });
  // box-a breaks every build (ROLE=broken), box-b is fine: the task succeeds only on box-b.
  agents.push(startAgent({ server: orch.aipUrl, name: 'box-a', labels: ['cpu'], env: { ROLE: 'broken' } }));
  agents.push(startAgent({ server: orch.aipUrl, name: 'box-b', labels: ['cpu'], env: { ROLE: 'fine' } }));
  const items = await waitFor(async () => {
    const { items } = await api<{ items: Array<{ id: string; name: string; status: string }> }>(
      orch.url,
      'GET',
      '/v1/devices',
    );
    return items.filter((d) => d.status === 'online').length === 2 ? items : undefined;
  }, 'two agents online');
  deviceIds = Object.fromEntries(items.map((d) => [d.name, d.id]));
}, 60_000);

afterAll(async () => {
  await Promise.all(agents.map((a) => a.kill('SIGKILL')));
  await orch?.kill('SIGKILL');
});

const graph = (name: string, replan?: string): Record<string, unknown> => ({
  name,
  ...(replan ? { replan } : {}),
  tasks: {
    build: {
      target: { device: 'box-a', labels: ['cpu'] },
      run: 'test "$ROLE" != broken && echo built',
      outputs: { out: 'stdout' },
    },
    ship: {
      needs: ['build'],
      env: { B: '${{ tasks.build.outputs.out }}' },
      run: 'echo "shipped $B"',
      outputs: { msg: 'stdout' },
    },
  },
});

const get = (id: string): Promise<Constellation> => api<Constellation>(orch.url, 'GET', `/v1/constellations/${id}`);
const proposals = async (id: string): Promise<ProposalView[]> =>
  (await api<{ items: ProposalView[] }>(orch.url, 'GET', `/v1/constellations/${id}/proposals`)).items;

/** Collects SSE frames of one constellation until stopped. */
function collectEvents(id: string): { frames: string[]; stop(): void } {
  const frames: string[] = [];
  const abort = new AbortController();
  void (async () => {
    const res = await fetch(`${orch.url}/v1/events?constellation=${id}`, { signal: abort.signal });
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let i = buf.indexOf('\n\n');
      while (i >= 0) {
        frames.push(buf.slice(0, i));
        buf = buf.slice(i + 2);
        i = buf.indexOf('\n\n');
      }
    }
  })().catch(() => undefined);
  return { frames, stop: () => abort.abort() };
}

async function runCli(args: string[]): Promise<{ code: number | null; out: string }> {
  const p = spawnCli([...args, '--server', orch.url]);
  const code = await p.exited;
  return { code, out: p.output() };
}

describe('replanning with the built-in planner', () => {
  it('propose: a failure becomes a proposal; approving it in the CLI reruns the task elsewhere and the run succeeds', async () => {
    const created = await api<Constellation>(orch.url, 'POST', '/v1/constellations', graph('propose-flow', 'propose'));
    expect(created.replan).toBe('propose');
    const events = collectEvents(created.id);
    const [p] = await waitFor(async () => {
      const ps = await proposals(created.id);
      return ps.length > 0 ? ps : undefined;
    }, 'a replan proposal');
    expect(p).toMatchObject({ status: 'pending', trigger: 'failure', taskId: 'build' });
    expect(p!.comment).toMatch(/retry build on box-b: it failed on box-a/);
    expect(p!.operations.map((o) => o.op)).toEqual(['retry_task', 'update_task']);
    const before = await get(created.id);
    expect(before.status).toBe('failed');
    expect(before.tasks.ship!.status).toBe('skipped');

    const listed = await runCli(['proposals', created.id]);
    expect(listed.code).toBe(0);
    expect(listed.out).toContain(p!.id);
    expect(listed.out).toContain('pending');

    const approved = await runCli(['proposals', 'approve', p!.id]);
    expect(approved.code, approved.out).toBe(0);
    expect(approved.out).toMatch(/applied by local/);

    const done = await waitFor(async () => {
      const c = await get(created.id);
      return c.status === 'succeeded' ? c : undefined;
    }, 'the replanned run to succeed');
    expect(done.tasks.build!.attempts.at(-1)!.deviceId).toBe(deviceIds['box-b']);
    expect(done.tasks.ship!.status).toBe('succeeded');
    const history = await api<{ items: Array<{ author: string; comment: string }> }>(
      orch.url,
      'GET',
      `/v1/constellations/${created.id}/history`,
    );
    expect(history.items.at(-1)!.author).toBe(`planner:builtin (${p!.id}, approved by local)`);

    await waitFor(() => events.frames.filter((f) => f.startsWith('event: proposal')).length >= 2, 'proposal events');
    events.stop();
    const statuses = events.frames
      .filter((f) => f.startsWith('event: proposal'))
      .map((f) => JSON.parse(f.split('data: ')[1]!).status);
    expect(statuses).toEqual(['pending', 'applied']);

    // A decided proposal cannot be decided again.
    const again = await fetch(`${orch.url}/v1/proposals/${p!.id}/reject`, { method: 'POST' });
    expect(again.status).toBe(409);
    expect(((await again.json()) as { code: string }).code).toBe('PROPOSAL_DECIDED');

    const calls = await runCli(['planner-calls', '--constellation', created.id]);
    expect(calls.out).toMatch(/replan .* planner=builtin by engine \(task build failed\) -> proposed/);
  });

  it('a failure the graph handles itself (a failure dependency) is not replanned', async () => {
    const handled = await api<Constellation>(orch.url, 'POST', '/v1/constellations', {
      name: 'handled',
      replan: 'propose',
      tasks: {
        build: { target: { device: 'box-a' }, run: 'test "$ROLE" != broken' },
        rollback: { needs: { build: 'failure' }, run: 'echo rolled back' },
      },
    });
    await waitFor(async () => (await get(handled.id)).status === 'succeeded', 'the handled run to end');
    // Failures reach the replanner in order: once a later one has its proposal, the handled one was passed over.
    const later = await api<Constellation>(orch.url, 'POST', '/v1/constellations', graph('after-handled', 'propose'));
    await waitFor(async () => (await proposals(later.id)).length > 0, 'the later proposal');
    expect(await proposals(handled.id)).toEqual([]);
    const calls = await api<{ items: unknown[] }>(orch.url, 'GET', `/v1/planner/calls?constellation=${handled.id}`);
    expect(calls.items).toEqual([]);
  });

  it('auto (set at submit): the proposal is applied at once and the run succeeds', async () => {
    const created = await api<Constellation>(orch.url, 'POST', '/v1/constellations?replan=auto', graph('auto-flow'));
    expect(created.replan).toBe('auto');
    const done = await waitFor(async () => {
      const c = await get(created.id);
      return c.status === 'succeeded' ? c : undefined;
    }, 'the auto-replanned run to succeed');
    expect(done.tasks.build!.attempts.map((a) => a.deviceId)).toEqual([deviceIds['box-a'], deviceIds['box-b']]);
    const [p] = await proposals(created.id);
    expect(p).toMatchObject({ status: 'applied', decidedBy: 'auto (replan policy)' });
  });

  it('off by default; on request it proposes (with a hint), a stale proposal is refused, reject works, and the bound holds', async () => {
    const created = await api<Constellation>(orch.url, 'POST', '/v1/constellations', graph('request-flow'));
    await waitFor(async () => (await get(created.id)).status === 'failed', 'the run to fail');
    expect(await proposals(created.id)).toEqual([]);

    // A hint in the controlled language picks the device and command.
    const hinted = await runCli(['replan', created.id, '--hint', 'on box-b: echo fixed-by-hint']);
    expect(hinted.code, hinted.out).toBe(0);
    expect(hinted.out).toMatch(/retry build on box-b running "echo fixed-by-hint"/);
    const [first] = await proposals(created.id);
    expect(first!.status).toBe('pending');

    // The constellation moves on (an edit): the proposal is now stale.
    const c = await get(created.id);
    await api(orch.url, 'POST', `/v1/constellations/${created.id}/edits`, {
      revision: c.revision,
      operations: [
        {
          op: 'add_task',
          task: {
            id: 'note',
            name: 'note',
            target: {},
            executor: { kind: 'shell', command: 'true' },
            inputs: {},
            outputs: {},
            priority: 0,
            retry: { max: 0, initialBackoffMs: 1000, maxBackoffMs: 60000, multiplier: 2 },
          },
        },
      ],
    });
    const stale = await fetch(`${orch.url}/v1/proposals/${first!.id}/approve`, { method: 'POST' });
    expect(stale.status).toBe(409);
    expect(((await stale.json()) as { code: string }).code).toBe('PROPOSAL_STALE');
    expect((await proposals(created.id))[0]!.status).toBe('stale');

    const second = await api<{ proposal: ProposalView }>(
      orch.url,
      'POST',
      `/v1/constellations/${created.id}/replan`,
      {},
    );
    expect(second.proposal.comment).toMatch(/retry build on box-b/);
    const rejected = await runCli(['proposals', 'reject', second.proposal.id, '--reason', 'not now']);
    expect(rejected.out).toMatch(/rejected by local/);

    await api(orch.url, 'POST', `/v1/constellations/${created.id}/replan`, {});
    const over = await fetch(`${orch.url}/v1/constellations/${created.id}/replan`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(over.status).toBe(409);
    expect(((await over.json()) as { code: string }).code).toBe('REPLAN_LIMIT_REACHED');
    expect(await proposals(created.id)).toHaveLength(3);
    // Nothing was changed by the refused and rejected proposals: build is still failed.
    expect((await get(created.id)).tasks.build!.status).toBe('failed');
  });
});

/** Runs `orrery plan` on a pseudo-terminal (util-linux `script`) and answers the confirmation prompt. */
async function planOnTerminal(sentence: string, answer: string): Promise<{ code: number | null; out: string }> {
  const quote = (s: string): string => `'${s.replace(/'/g, `'"'"'`)}'`;
  const cmd = [process.execPath, CLI, 'plan', '--server', orch.url, sentence].map(quote).join(' ');
  const child = spawn('script', ['-qec', cmd, '/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let out = '';
  let answered = false;
  child.stdout.on('data', (b: Buffer) => {
    out += b.toString();
    if (!answered && out.includes('[y/N]')) {
      answered = true;
      child.stdin.write(`${answer}\n`);
    }
  });
  const code = await new Promise<number | null>((r) => child.on('exit', r));
  return { code, out };
}

describe('orrery plan', () => {
  const sentence = 'preview: on box-a as hello: echo hello; then on cpu as bye: echo bye';

  it.skipIf(!existsSync('/usr/bin/script'))(
    'on a terminal asks first: "y" submits, anything else does not (exit 3)',
    async () => {
      const count = async (): Promise<number> =>
        (await api<{ items: Array<{ name: string }> }>(orch.url, 'GET', '/v1/constellations')).items.filter(
          (c) => c.name === 'asked',
        ).length;
      const no = await planOnTerminal('asked: on any as a: echo hi', 'n');
      expect(no.out).toContain('Submit this plan? [y/N]');
      expect(no.code).toBe(3);
      expect(await count()).toBe(0);
      const yes = await planOnTerminal('asked: on any as a: echo hi', 'y');
      expect(yes.code, yes.out).toBe(0);
      expect(yes.out).toMatch(/submitted asked as \w+/);
      expect(await count()).toBe(1);
    },
  );

  it('without a terminal and without --yes prints the tree and exits 3 without submitting', async () => {
    const before = (await api<{ items: unknown[] }>(orch.url, 'GET', '/v1/constellations')).items.length;
    const r = await runCli(['plan', sentence]);
    expect(r.code).toBe(3);
    expect(r.out).toContain('Plan "preview" by the built-in planner: 2 tasks');
    expect(r.out).toMatch(/└─ hello +on device box-a/);
    expect(r.out).toMatch(/bye +on label cpu/);
    expect(r.out).toContain('not submitted');
    expect((await api<{ items: unknown[] }>(orch.url, 'GET', '/v1/constellations')).items.length).toBe(before);
  });

  it('a planned sentence runs across devices with --yes --wait, moving a file as an artifact', async () => {
    const r = await runCli([
      'plan',
      '--yes',
      '--wait',
      'relay: on box-a as make (artifact out=out.txt): echo "made on $ROLE" > out.txt; then on box-b as use (input in.txt=make.out, output text): cat in.txt',
    ]);
    expect(r.code, r.out).toBe(0);
    const id = /submitted relay as (\w+)/.exec(r.out)![1]!;
    const c = await api<{
      status: string;
      tasks: Record<string, { outputs: Record<string, string>; attempts: Array<{ deviceId: string }> }>;
    }>(orch.url, 'GET', `/v1/constellations/${id}`);
    expect(c.status).toBe('succeeded');
    expect(c.tasks.use!.outputs.text).toBe('made on broken');
    expect(c.tasks.use!.attempts.at(-1)!.deviceId).toBe(deviceIds['box-b']);
  });

  it('--json prints the graph; --yes submits; unknown targets fail with the known ones listed', async () => {
    const json = await runCli(['plan', '--json', sentence]);
    expect(json.code).toBe(0);
    const doc = JSON.parse(json.out) as { tasks: Record<string, { target: unknown }> };
    expect(doc.tasks.hello!.target).toEqual({ device: 'box-a' });

    const yes = await runCli(['plan', '--yes', '--replan', 'propose', sentence]);
    expect(yes.code, yes.out).toBe(0);
    const id = /submitted preview as (\w+)/.exec(yes.out)![1]!;
    expect((await get(id)).replan).toBe('propose');

    const bad = await runCli(['plan', 'on jetson: ./infer']);
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('PLANNER_UNKNOWN_TARGET');
    expect(bad.out).toContain('devices: box-a, box-b; labels: cpu');
  });
});
