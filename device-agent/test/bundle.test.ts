// The single-file agent (scripts/bundle.mjs): built into an empty directory
// with no node_modules anywhere above it, run as a real agent process against
// a real orchestrator, it connects and runs a task (WebSocket and gRPC).
// Extra node binaries to try it on (e.g. a Node 18): ORRERY_BUNDLE_NODES=/path/node18:/path/node22.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type OrchestratorHandle, startOrchestrator, waitFor } from '../../scripts/testing/stack.js';
import { tempDir } from './helpers.js';

const bundleScript = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'scripts', 'bundle.mjs');
const nodes = [process.execPath, ...(process.env.ORRERY_BUNDLE_NODES ?? '').split(':').filter(Boolean)];

/** No node_modules in `dir` or any directory above it: the bundle must stand alone. */
function noNodeModulesAbove(dir: string): boolean {
  for (let d = dir; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, 'node_modules'))) return false;
    if (path.dirname(d) === d) return true;
  }
}

describe('the single-file agent bundle', () => {
  let tmp: ReturnType<typeof tempDir>;
  let bundle: string;
  let orch: OrchestratorHandle;
  beforeAll(async () => {
    tmp = tempDir('orrery-bundle-');
    bundle = path.join(tmp.dir, 'orrery-agent.mjs');
    execFileSync(process.execPath, [bundleScript, '--outfile', bundle], { stdio: 'pipe' });
    orch = await startOrchestrator({ heartbeatMs: 300 });
  }, 120_000);
  afterAll(async () => {
    await orch?.kill('SIGTERM');
    tmp.cleanup();
  });

  it('is one executable ESM file with the protocol schema inside and no native add-on', () => {
    expect(statSync(bundle).mode & 0o111).not.toBe(0);
    const text = readFileSync(bundle, 'utf8');
    expect(text.startsWith('#!/usr/bin/env node\n')).toBe(true);
    expect(text).toContain('message Heartbeat');
    expect(text).not.toMatch(/require\(["'][^"']+\.node["']\)/);
    if (!noNodeModulesAbove(tmp.dir)) console.warn(`note: a node_modules exists above ${tmp.dir}; standalone-ness is weaker here`);
  });

  for (const node of nodes) {
    const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
    for (const transport of ['ws', 'grpc'] as const) {
      it(`runs as a real agent on node ${version} over ${transport} and runs a task`, async () => {
        const name = `bundle-${version.replace(/\W/g, '')}-${transport}`;
        const server = transport === 'ws' ? orch.aipUrl : orch.grpcUrl!;
        const child = spawn(node, [bundle, '--server', server, '--name', name, '--data-dir', path.join(tmp.dir, name), '--log-level', 'warn'], {
          cwd: tmp.dir,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
        });
        child.stderr.on('data', (d: Buffer) => {
          out += d.toString();
        });
        try {
          await waitFor(async () => {
            if (child.exitCode !== null) throw new Error(`bundle exited ${child.exitCode}: ${out}`);
            const { items } = await api<{ items: Array<{ name: string; status: string }> }>(orch.url, 'GET', '/v1/devices');
            return items.some((d) => d.name === name && d.status === 'online');
          }, 'the bundled agent online');
          const c = await api<{ id: string }>(orch.url, 'POST', '/v1/constellations', {
            name,
            tasks: { hi: { target: { device: name }, run: 'echo "from $ORRERY_TASK_ID"', outputs: { said: 'stdout' } } },
          });
          const done = await waitFor(async () => {
            const g = await api<{ status: string; tasks: Record<string, { outputs: Record<string, string> }> }>(orch.url, 'GET', `/v1/constellations/${c.id}`);
            return g.status === 'succeeded' || g.status === 'failed' ? g : undefined;
          }, 'the task to finish');
          expect(done.status, out).toBe('succeeded');
          expect(done.tasks.hi?.outputs.said).toBe('from hi');
        } finally {
          child.kill('SIGTERM');
          const code = await new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.once('exit', (c) => r(c))));
          expect(code, out).toBe(0);
        }
      });
    }
  }
});
