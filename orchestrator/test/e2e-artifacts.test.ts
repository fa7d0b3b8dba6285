// Artifacts end to end, with a real orchestrator and real agents: a file
// produced on one device becomes the input of a task on another, checked by
// its sha256 on both ends, served over HTTP and the CLI, and still there
// after the orchestrator is SIGKILLed and restarted.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AipClient,
  type Assign,
  ArtifactPeer,
  BlobStore,
  type Body,
  type Capabilities,
} from '@orrery/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { LiveEvent } from '../src/api/live-events.js';
import { ApiClient } from '../src/cli/api-client.js';
import {
  type AgentHandle,
  api,
  type OrchestratorHandle,
  REPO_ROOT,
  spawnCli,
  startAgent,
  startOrchestrator,
  waitFor,
} from '../../scripts/testing/stack.js';

type Task = {
  status: string;
  outputs: Record<string, string>;
  artifacts?: Record<string, { digest: string; size: number }>;
  attempts: Array<{ deviceId: string; error?: string }>;
};
type C = { id: string; status: string; tasks: Record<string, Task> };

const running: Array<OrchestratorHandle | AgentHandle> = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill('SIGKILL')));
});

const online = (url: string, names: string[]) =>
  waitFor(
    async () => {
      const { items } = await api<{ items: Array<{ name: string; status: string }> }>(url, 'GET', '/v1/devices');
      return names.every((n) => items.some((d) => d.name === n && d.status === 'online'));
    },
    `${names.join(', ')} online`,
  );

const finished = (url: string, id: string, timeoutMs = 60_000) =>
  waitFor(
    async () => {
      const c = await api<C>(url, 'GET', `/v1/constellations/${id}`);
      return ['succeeded', 'failed', 'cancelled'].includes(c.status) ? c : undefined;
    },
    `constellation ${id} to finish`,
    timeoutMs,
  );

const SIX_MB = 6 * 1024 * 1024;

/** Producer writes a random multi-megabyte file; consumers print the sha256 of what they received. */
function graph(name: string, consumers: string[]) {
  const tasks: Record<string, unknown> = {
    make: {
      target: { labels: ['producer'] },
      run: `mkdir -p out && head -c ${SIX_MB} /dev/urandom > out/data-$$.bin && sha256sum out/data-*.bin | cut -d' ' -f1`,
      outputs: { sha: 'stdout' },
      artifacts: { data: 'out/data-*.bin' },
    },
  };
  let prev = 'make';
  for (const id of consumers) {
    tasks[id] = {
      target: { labels: ['consumer'] },
      needs: prev === 'make' ? [] : [prev],
      artifactInputs: { 'in/data.bin': 'tasks.make.artifacts.data' },
      run: `sha256sum in/data.bin | cut -d' ' -f1`,
      outputs: { sha: 'stdout' },
    };
    prev = id;
  }
  return { name, tasks };
}

describe('artifacts end to end', () => {
  it('moves a multi-megabyte file from the device that made it to a task on another device', async () => {
    const orch = await startOrchestrator({ heartbeatMs: 300 });
    running.push(orch);
    running.push(startAgent({ server: orch.aipUrl, name: 'maker', labels: ['producer'], slots: 1 }));
    running.push(startAgent({ server: orch.aipUrl, name: 'user', labels: ['consumer'], slots: 1 }));
    await online(orch.url, ['maker', 'user']);

    // Watch the live events from before the submission: the consumer shows its fetch as progress.
    const abort = new AbortController();
    const seen: LiveEvent[] = [];
    const reading = (async () => {
      for await (const ev of new ApiClient(orch.url).events(undefined, abort.signal)) seen.push(ev);
    })().catch(() => undefined);
    await new Promise((r) => setTimeout(r, 200));
    const c = await api<C>(orch.url, 'POST', '/v1/constellations', graph('move-a-file', ['use', 'again']));
    const done = await finished(orch.url, c.id);
    abort.abort();
    await reading;
    const progress = seen.flatMap((e) =>
      e.type === 'task' && e.data.taskId === 'use' && e.data.progress ? [e.data.progress.message] : [],
    );
    expect(progress.some((m) => m.startsWith('fetching artifact make.data'))).toBe(true);
    const madeEvent = seen.findLast((e) => e.type === 'task' && e.data.taskId === 'make');
    expect(madeEvent?.type === 'task' ? madeEvent.data.artifacts?.data?.size : 0).toBe(SIX_MB);
    expect(done.status).toBe('succeeded');
    const made = done.tasks.make as Task;
    const sha = made.outputs.sha as string;
    expect(sha).toMatch(/^[0-9a-f]{64}$/);
    expect(made.artifacts?.data).toEqual({ digest: sha, size: SIX_MB });
    expect((done.tasks.use as Task).outputs.sha).toBe(sha);
    expect((done.tasks.again as Task).outputs.sha).toBe(sha);
    // Different devices: the bytes really crossed the channel twice (up, then down).
    expect(made.attempts[0]?.deviceId).not.toBe((done.tasks.use as Task).attempts[0]?.deviceId);

    // The second consumer on the same device used the cached blob: no second transfer.
    const useLog = await api<string>(orch.url, 'GET', `/v1/constellations/${c.id}/tasks/use/logs`);
    const againLog = await api<string>(orch.url, 'GET', `/v1/constellations/${c.id}/tasks/again/logs`);
    expect(useLog).toContain(`artifact make.data fetched (${SIX_MB} bytes, sha256 ${sha})`);
    expect(againLog).toContain(`artifact make.data from the local cache (sha256 ${sha})`);

    // Over the wire: one upload, and one download for two consumers.
    const metrics = await api<string>(orch.url, 'GET', '/metrics');
    expect(metrics).toContain(`orrery_artifact_bytes_received_total ${SIX_MB}\n`);
    expect(metrics).toContain(`orrery_artifact_bytes_sent_total ${SIX_MB}\n`);
    expect(metrics).toContain('orrery_artifacts_stored_total 1\n');

    // Listed and downloadable over HTTP, with length and digest headers.
    const { items } = await api<{ items: Array<{ task: string; name: string; digest: string; size: number }> }>(
      orch.url,
      'GET',
      `/v1/constellations/${c.id}/artifacts`,
    );
    expect(items).toEqual([expect.objectContaining({ task: 'make', name: 'data', digest: sha, size: SIX_MB })]);
    const res = await fetch(`${orch.url}/v1/artifacts/${sha}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(SIX_MB));
    expect(res.headers.get('repr-digest')).toBe(`sha-256=:${Buffer.from(sha, 'hex').toString('base64')}:`);
    // Bearer-authenticated: cacheable forever by the client, never by a shared cache.
    expect(res.headers.get('cache-control')).toBe('private, max-age=31536000, immutable');
    const body = Buffer.from(await res.arrayBuffer());
    expect(createHash('sha256').update(body).digest('hex')).toBe(sha);
    const missing = await fetch(`${orch.url}/v1/artifacts/${'0'.repeat(64)}`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { code: string }).code).toBe('ARTIFACT_NOT_FOUND');
    expect((await fetch(`${orch.url}/v1/artifacts/nope`)).status).toBe(400);

    // And through the CLI.
    const out = mkdtempSync(join(tmpdir(), 'orrery-art-cli-'));
    const list = spawnCli(['artifacts', c.id, 'make', '--server', orch.url]);
    expect(await list.exited).toBe(0);
    expect(list.output()).toContain(`make.data  6.0 MiB  ${sha}`);
    const get = spawnCli(['artifacts', 'get', sha, '-o', join(out, 'data.bin'), '--server', orch.url]);
    expect(await get.exited).toBe(0);
    expect(
      createHash('sha256')
        .update(readFileSync(join(out, 'data.bin')))
        .digest('hex'),
    ).toBe(sha);
  });

  it('keeps a stored artifact across an orchestrator SIGKILL: the consumer, started after the restart, still gets it', async () => {
    let orch = await startOrchestrator({ heartbeatMs: 300 });
    running.push(orch);
    const port = Number(new URL(orch.url).port);
    running.push(startAgent({ server: orch.aipUrl, name: 'maker2', labels: ['producer'], slots: 1 }));
    await online(orch.url, ['maker2']);

    const c = await api<C>(orch.url, 'POST', '/v1/constellations', graph('survive-restart', ['use']));
    const made = await waitFor(async () => {
      const s = await api<C>(orch.url, 'GET', `/v1/constellations/${c.id}`);
      return s.tasks.make?.status === 'succeeded' ? s.tasks.make : undefined;
    }, 'the producer to succeed');
    const sha = made.outputs.sha as string;

    await orch.kill('SIGKILL');
    // A partial upload left by the crash must be cleaned up, never served.
    const tmp = join(orch.dataDir, 'artifacts', 'tmp');
    mkdirSync(tmp, { recursive: true });
    writeFileSync(join(tmp, 'leftover-abc.part'), 'half a blob');
    orch = await startOrchestrator({ dataDir: orch.dataDir, port, heartbeatMs: 300 });
    running.push(orch);
    expect(readdirSync(tmp)).toEqual([]);
    expect(existsSync(join(orch.dataDir, 'artifacts', 'sha256', sha.slice(0, 2), sha))).toBe(true);

    running.push(startAgent({ server: orch.aipUrl, name: 'user2', labels: ['consumer'], slots: 1 }));
    const done = await finished(orch.url, c.id);
    expect(done.status).toBe('succeeded');
    expect((done.tasks.use as Task).outputs.sha).toBe(sha);
  });

  it('survives an orchestrator SIGKILL in the middle of an upload: the partial blob is dropped and the upload starts over', async () => {
    const BIG = 96 * 1024 * 1024;
    let orch = await startOrchestrator({ heartbeatMs: 300 });
    running.push(orch);
    const port = Number(new URL(orch.url).port);
    running.push(startAgent({ server: orch.aipUrl, name: 'maker3', slots: 1 }));
    await online(orch.url, ['maker3']);
    const c = await api<C>(orch.url, 'POST', '/v1/constellations', {
      name: 'cut-upload',
      tasks: {
        make: {
          run: `head -c ${BIG} /dev/urandom > big.bin && sha256sum big.bin | cut -d' ' -f1`,
          outputs: { sha: 'stdout' },
          artifacts: { big: 'big.bin' },
        },
        use: {
          artifactInputs: { 'b.bin': 'tasks.make.artifacts.big' },
          run: "sha256sum b.bin | cut -d' ' -f1",
          outputs: { sha: 'stdout' },
        },
      },
    });
    const tmp = join(orch.dataDir, 'artifacts', 'tmp');
    await waitFor(
      () => existsSync(tmp) && readdirSync(tmp).some((f) => f.endsWith('.part')),
      'the upload to be under way',
      60_000,
      10,
    );
    await orch.kill('SIGKILL');
    orch = await startOrchestrator({ dataDir: orch.dataDir, port, heartbeatMs: 300 });
    running.push(orch);
    const done = await finished(orch.url, c.id, 120_000);
    expect(done.status).toBe('succeeded');
    const sha = done.tasks.make?.outputs.sha;
    expect(done.tasks.make?.artifacts?.big).toEqual({ digest: sha, size: BIG });
    expect(done.tasks.use?.outputs.sha).toBe(sha);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('fails an attempt whose artifact is over the orchestrator limit with ARTIFACT_TOO_LARGE, storing nothing', async () => {
    const orch = await startOrchestrator({ heartbeatMs: 300, args: ['--artifact-max-bytes', '1000'] });
    running.push(orch);
    running.push(startAgent({ server: orch.aipUrl, name: 'big', labels: ['producer'], slots: 1 }));
    await online(orch.url, ['big']);
    const c = await api<C>(orch.url, 'POST', '/v1/constellations', {
      name: 'too-big',
      tasks: {
        make: {
          target: { labels: ['producer'] },
          run: 'head -c 5000 /dev/zero > big.bin',
          artifacts: { big: 'big.bin' },
        },
      },
    });
    const done = await finished(orch.url, c.id);
    expect(done.status).toBe('failed');
    // The last attempt (an earlier one may have been lost to a missed heartbeat on a loaded machine).
    expect(done.tasks.make?.attempts.at(-1)?.error).toMatch(/^ARTIFACT_TOO_LARGE: /);
    const stored = join(orch.dataDir, 'artifacts', 'sha256');
    expect(readdirSync(stored).flatMap((d) => readdirSync(join(stored, d)))).toEqual([]);
  });

  it("applies the agent's own limits and path rules: oversize, ambiguous glob, a symlink out of the work dir", async () => {
    const orch = await startOrchestrator({ heartbeatMs: 300 });
    running.push(orch);
    running.push(startAgent({ server: orch.aipUrl, name: 'strict', slots: 3, args: ['--max-artifact-bytes', '2048'] }));
    await online(orch.url, ['strict']);
    const c = await api<C>(orch.url, 'POST', '/v1/constellations', {
      name: 'agent-rules',
      tasks: {
        big: { run: 'head -c 5000 /dev/zero > big.bin', artifacts: { big: 'big.bin' } },
        two: { run: 'echo a > a.txt && echo b > b.txt', artifacts: { one: '*.txt' } },
        escape: { run: 'ln -s /etc/passwd host.txt', artifacts: { host: 'host.txt' } },
      },
    });
    const done = await finished(orch.url, c.id);
    const err = (id: string) => done.tasks[id]?.attempts.at(-1)?.error ?? '';
    expect(err('big')).toMatch(/^ARTIFACT_TOO_LARGE: .*over the 2048-byte artifact limit/);
    expect(err('two')).toMatch(/^ARTIFACT_NOT_FOUND: artifact one: 2 files match \*\.txt/);
    expect(err('escape')).toMatch(/^ARTIFACT_NOT_FOUND: artifact host: host\.txt is a symlink/);
    const { items } = await api<{ items: unknown[] }>(orch.url, 'GET', `/v1/constellations/${c.id}/artifacts`);
    expect(items).toEqual([]);
  });

  it('refuses a graph whose artifact input names an unknown artifact, with a stable code and path', async () => {
    const orch = await startOrchestrator({ heartbeatMs: 300 });
    running.push(orch);
    const err = await api(orch.url, 'POST', '/v1/constellations', {
      name: 'bad-ref',
      tasks: {
        make: { run: 'true', artifacts: { data: 'x.bin' } },
        use: { run: 'true', artifactInputs: { 'x.bin': 'tasks.make.artifacts.nope' } },
      },
    }).catch((e: { status: number; body: { code: string; errors: Array<{ path: string }> } }) => e);
    expect((err as { status: number }).status).toBe(422);
    const body = (err as { body: { code: string; errors?: Array<{ path: string }> } }).body;
    expect(body.code).toBe('GRAPH_UNKNOWN_REFERENCE');
    expect(JSON.stringify(body)).toContain('/tasks/use/artifactInputs/x.bin');
  });
});

const CAPS: Capabilities = {
  os: 'linux',
  arch: 'x64',
  labels: [],
  features: [],
  slots: 1,
  cpus: 1,
  memoryMb: 1024,
  gpus: 0,
  executors: ['shell'],
  hostname: 'raw',
};

/** A device driven by the test itself over a real AIP session (no agent), with its own artifact peer. */
function rawDevice(orch: OrchestratorHandle, name: string, protocolVersions?: number[]) {
  const store = new BlobStore(mkdtempSync(join(tmpdir(), 'orrery-raw-')));
  const client = new AipClient({
    url: orch.aipUrl,
    deviceName: name,
    capabilities: CAPS,
    heartbeat: () => ({ running: 0, freeSlots: 1, batteryPercent: -1, thermalCelsius: -1, loadAvg: 0 }),
    ...(protocolVersions ? { protocolVersions } : {}),
  });
  let connected = false;
  const peer = new ArtifactPeer({ store, send: (b) => client.send(b), connected: () => connected });
  const assigns: Assign[] = [];
  client.on('welcome', () => {
    connected = true;
  });
  client.on('disconnect', () => {
    connected = false;
  });
  client.on('artifact', (b: Body) => peer.handle(b));
  client.on('message', (b: Body) => {
    if (b.type === 'assign') assigns.push(b.value);
  });
  client.start();
  running.push({ kill: async () => { peer.close(); await client.stop('test over'); } } as unknown as AgentHandle);
  return { client, peer, store, assigns };
}

const blobFile = async (store: BlobStore, bytes: number) => {
  const f = join(store.root, '..', `src-${bytes}.bin`);
  writeFileSync(f, Buffer.alloc(bytes, 7));
  return store.importFile(f);
};

describe('artifact transfers are tied to assigned attempts', () => {
  it('refuses uploads and downloads a device has no attempt for, and a Result naming an undeclared artifact', async () => {
    const orch = await startOrchestrator({ heartbeatMs: 300 });
    running.push(orch);
    const rogue = rawDevice(orch, 'rogue');
    await online(orch.url, ['rogue']);
    const blob = await blobFile(rogue.store, 300_000);
    const ref = { constellationId: 'c-none', taskId: 'none', attempt: 1 };

    // No attempt at all: the offer is refused before any byte moves, and nothing is stored.
    await expect(rogue.peer.upload({ ...ref, ...blob, name: 'data' })).rejects.toMatchObject({ code: 'ARTIFACT_REFUSED' });
    const stored = join(orch.dataDir, 'artifacts', 'sha256');
    expect(readdirSync(stored).flatMap((d) => readdirSync(join(stored, d)))).toEqual([]);

    const c = await api<C>(orch.url, 'POST', '/v1/constellations', {
      name: 'tied',
      tasks: { make: { run: 'true', artifacts: { data: 'out.bin' } } },
    });
    await waitFor(async () => rogue.assigns.length > 0, 'the assign');
    const a = rogue.assigns[0] as Assign;
    const mine = { constellationId: a.constellationId, taskId: a.taskId, attempt: a.attempt };
    // Its own attempt, but a name the task does not declare: refused.
    await expect(rogue.peer.upload({ ...mine, ...blob, name: 'stolen' })).rejects.toMatchObject({
      code: 'ARTIFACT_REFUSED',
    });
    // The declared output of the attempt it holds: stored.
    await rogue.peer.upload({ ...mine, ...blob, name: 'data' });

    // A blob stored here but no input of any attempt this device holds: not served.
    const other = new BlobStore(mkdtempSync(join(tmpdir(), 'orrery-raw-')));
    const thief = new ArtifactPeer({ store: other, send: (b) => rogue.client.send(b), connected: () => true });
    rogue.client.on('artifact', (b: Body) => thief.handle(b));
    await expect(thief.fetch(blob.digest, blob.size)).rejects.toMatchObject({ code: 'ARTIFACT_REFUSED' });
    thief.close();
    expect(other.has(blob.digest)).toBe(false);

    // A success naming an artifact the task does not declare fails the attempt.
    const now = Date.now();
    rogue.client.send({
      type: 'result',
      value: {
        ...mine,
        outcome: 'SUCCEEDED',
        exitCode: 0,
        signal: '',
        outputs: {},
        error: '',
        startedAtMs: now,
        endedAtMs: now,
        stdoutBytes: 0,
        stderrBytes: 0,
        artifacts: [
          { name: 'data', digest: blob.digest, size: blob.size },
          { name: 'extra', digest: blob.digest, size: blob.size },
        ],
      },
    });
    const attempt = await waitFor(async () => {
      const got = await api<C>(orch.url, 'GET', `/v1/constellations/${c.id}`);
      return got.tasks.make?.attempts[0]?.error;
    }, 'the first attempt to end');
    expect(attempt).toMatch(/^ARTIFACT_UNDECLARED: artifact "extra" is not declared by the task/);
  });

  it('never places an artifact task on a version-1 device: it waits (saying why) and uses no retry', async () => {
    const orch = await startOrchestrator({ heartbeatMs: 300 });
    running.push(orch);
    const old = rawDevice(orch, 'old-agent', [1]);
    await online(orch.url, ['old-agent']);
    const c = await api<C>(orch.url, 'POST', '/v1/constellations', {
      name: 'needs-v2',
      tasks: { make: { run: 'head -c 1000 /dev/zero > out.bin', artifacts: { data: 'out.bin' }, retries: 0 } },
    });
    const reason = await waitFor(async () => {
      const got = await api<{ tasks: Record<string, { waitingReason?: string }> }>(orch.url, 'GET', `/v1/constellations/${c.id}`);
      return got.tasks.make?.waitingReason;
    }, 'a waiting reason');
    expect(reason).toContain('aip:artifacts');
    expect(old.assigns).toEqual([]);
    // A current agent takes it and it succeeds on the first attempt.
    running.push(startAgent({ server: orch.aipUrl, name: 'new-agent', slots: 1 }));
    const done = await finished(orch.url, c.id);
    expect(done.status).toBe('succeeded');
    expect(done.tasks.make?.attempts).toHaveLength(1);
    expect(old.assigns).toEqual([]);
  });
});

describe('artifacts with the single-file agent over gRPC', () => {
  it('moves a file between two bundled agents connected over grpc://', async () => {
    const work = mkdtempSync(join(tmpdir(), 'orrery-art-bundle-'));
    const bundle = join(work, 'orrery-agent.mjs');
    execFileSync(process.execPath, [join(REPO_ROOT, 'device-agent', 'scripts', 'bundle.mjs'), '--outfile', bundle], {
      stdio: 'pipe',
    });
    const orch = await startOrchestrator({ heartbeatMs: 300 });
    running.push(orch);
    const grpcUrl = orch.grpcUrl as string;
    expect(grpcUrl).toMatch(/^grpc:\/\//);
    const children = ['producer', 'consumer'].map((label) =>
      spawn(
        process.execPath,
        [
          bundle,
          '--server',
          grpcUrl,
          '--name',
          `b-${label}`,
          '--labels',
          label,
          '--data-dir',
          join(work, label),
          '--log-level',
          'warn',
        ],
        {
          cwd: work,
          stdio: 'ignore',
        },
      ),
    );
    try {
      await online(orch.url, ['b-producer', 'b-consumer']);
      const c = await api<C>(orch.url, 'POST', '/v1/constellations', graph('bundled-grpc', ['use']));
      const done = await finished(orch.url, c.id);
      expect(done.status).toBe('succeeded');
      expect(done.tasks.use?.outputs.sha).toBe(done.tasks.make?.outputs.sha);
      expect(done.tasks.make?.artifacts?.data?.digest).toBe(done.tasks.make?.outputs.sha);
    } finally {
      for (const child of children) child.kill('SIGKILL');
    }
  });
});
