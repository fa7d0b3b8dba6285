// The agent's side of artifacts on the device: inputs are placed in the work
// dir without following links a task planted (the agent may be root while
// tasks run as another account), and the dir is handed to the task's account
// only after they are in place.
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { AipClientConfig, Assign, Body } from '@orrery/protocol';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentArtifacts } from '../src/artifacts/agent-artifacts.js';
import { ShellExecutor } from '../src/executors/shell.js';
import { FakeSession } from './fake-session.js';
import { makeAssign, tempDir } from './helpers.js';

let tmp: ReturnType<typeof tempDir>;
let artifacts: AgentArtifacts | undefined;
beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => {
  artifacts?.close();
  artifacts = undefined;
  tmp.cleanup();
});

const isRoot = process.getuid?.() === 0;

/** An agent artifact cache holding one blob, attached to a version-2 session. */
async function cacheWith(content: string, owner?: { uid: number; gid: number }) {
  artifacts = new AgentArtifacts(path.join(tmp.dir, 'data'), pino({ level: 'silent' }), owner ? { owner } : {});
  const session = new FakeSession({} as AipClientConfig);
  artifacts.attach(session);
  session.emit('welcome', { protocolVersion: 2 });
  const src = path.join(tmp.dir, 'blob.src');
  writeFileSync(src, content);
  const blob = await artifacts.cache.importFile(src);
  return { artifacts, blob };
}

function withInput(blob: { digest: string; size: number }, at: string): Assign {
  return makeAssign('true', {
    artifactInputs: [{ path: at, digest: blob.digest, size: blob.size, source: 'a.model' }],
  });
}

describe('placing artifact inputs', () => {
  it('replaces a planted symlink at the input path instead of writing through it', async () => {
    const { artifacts, blob } = await cacheWith('model bytes');
    const victim = path.join(tmp.dir, 'passwd');
    writeFileSync(victim, 'root:x:0:0\n');
    const cwd = path.join(tmp.dir, 'work');
    mkdirSync(cwd);
    symlinkSync(victim, path.join(cwd, 'model.bin'));
    await artifacts.placeInputs(withInput(blob, 'model.bin'), cwd, () => {});
    expect(readFileSync(victim, 'utf8')).toBe('root:x:0:0\n');
    expect(lstatSync(path.join(cwd, 'model.bin')).isSymbolicLink()).toBe(false);
    expect(readFileSync(path.join(cwd, 'model.bin'), 'utf8')).toBe('model bytes');
  });

  it('refuses an input path that goes through a symlinked folder, with ARTIFACT_REFUSED', async () => {
    const { artifacts, blob } = await cacheWith('model bytes');
    const outside = path.join(tmp.dir, 'etc');
    mkdirSync(outside);
    const cwd = path.join(tmp.dir, 'work');
    mkdirSync(cwd);
    symlinkSync(outside, path.join(cwd, 'models'));
    await expect(artifacts.placeInputs(withInput(blob, 'models/m.bin'), cwd, () => {})).rejects.toMatchObject({
      code: 'ARTIFACT_REFUSED',
    });
    expect(() => statSync(path.join(outside, 'm.bin'))).toThrow();
  });

  it.skipIf(!isRoot)('gives the placed file and the folders made for it to the task account (runAs)', async () => {
    const owner = { uid: 4321, gid: 4321 };
    const { artifacts, blob } = await cacheWith('model bytes', owner);
    const cwd = path.join(tmp.dir, 'work');
    mkdirSync(cwd);
    await artifacts.placeInputs(withInput(blob, 'deep/er/m.bin'), cwd, () => {});
    for (const p of ['deep', 'deep/er', 'deep/er/m.bin']) expect(statSync(path.join(cwd, p)).uid).toBe(4321);
    expect(statSync(cwd).uid).toBe(0);
  });
});

describe.skipIf(!isRoot)('work dir hand-over (runAs, needs root)', () => {
  it('runs prepare (artifact inputs) while the agent still owns the work dir, then hands it over', async () => {
    const exec = new ShellExecutor({
      workRoot: path.join(tmp.dir, 'work'),
      killGraceMs: 200,
      keepWorkDirs: true,
      runAs: { uid: 4321, gid: 4321 },
    });
    let ownerDuringPrepare = -1;
    const a = exec.run(makeAssign('true'), {
      prepare: async (cwd) => {
        ownerDuringPrepare = statSync(cwd).uid;
      },
    });
    await a.done;
    expect(ownerDuringPrepare).toBe(0);
    expect(statSync(a.cwd).uid).toBe(4321);
  });
});

/** An agent cache on a session whose "orchestrator" confirms every upload at once. */
function uploadingAgent() {
  const a = new AgentArtifacts(path.join(tmp.dir, 'data'), pino({ level: 'silent' }));
  artifacts = a;
  const session = new FakeSession({} as AipClientConfig);
  session.send = (b: Body) => {
    session.sent.push(b);
    if (b.type === 'artifactOffer') {
      const value = { digest: b.value.digest, code: '', message: 'stored' };
      setImmediate(() => session.emit('artifact', { type: 'artifactStatus', value }));
    }
  };
  a.attach(session);
  session.emit('welcome', { protocolVersion: 2 });
  return a;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('collecting artifact outputs', () => {
  it('uploads the file that was checked, even if the task swaps it for a symlink while outputs are collected', async () => {
    const a = uploadingAgent();
    const secret = path.join(tmp.dir, 'credentials.json');
    writeFileSync(secret, 'agent credential');
    const cwd = path.join(tmp.dir, 'work');
    mkdirSync(cwd);
    writeFileSync(path.join(cwd, 'one.txt'), 'first output');
    writeFileSync(path.join(cwd, 'two.txt'), 'second output');
    // A lingering task process swaps two.txt for a link to the credential while the first output is imported.
    const importFile = a.cache.importFile.bind(a.cache);
    let swapped = false;
    a.cache.importFile = async (...args: Parameters<typeof importFile>) => {
      if (!swapped) {
        swapped = true;
        renameSync(path.join(cwd, 'two.txt'), path.join(cwd, 'two.old'));
        symlinkSync(secret, path.join(cwd, 'two.txt'));
      }
      return importFile(...args);
    };
    const assign = makeAssign('true', {
      artifactOutputs: [
        { name: 'one', path: 'one.txt' },
        { name: 'two', path: 'two.txt' },
      ],
    });
    const refs = await a.collectOutputs(assign, cwd, () => {});
    expect(swapped).toBe(true);
    expect(refs.map((r) => r.digest)).toEqual([sha('first output'), sha('second output')]);
    expect(a.cache.has(sha('agent credential'))).toBe(false);
  });

  it('refuses an output reached through a symlinked folder that leads out of the work dir', async () => {
    const a = uploadingAgent();
    const outside = path.join(tmp.dir, 'private');
    mkdirSync(outside);
    writeFileSync(path.join(outside, 'key.pem'), 'secret key');
    const cwd = path.join(tmp.dir, 'work');
    mkdirSync(cwd);
    symlinkSync(outside, path.join(cwd, 'out'));
    const assign = makeAssign('true', { artifactOutputs: [{ name: 'k', path: 'out/key.pem' }] });
    await expect(a.collectOutputs(assign, cwd, () => {})).rejects.toMatchObject({
      code: 'ARTIFACT_NOT_FOUND',
      message: expect.stringContaining('points outside the work dir'),
    });
    expect(a.cache.has(sha('secret key'))).toBe(false);
  });
});
