// The mcp executor against a real MCP server over stdio (test/fixtures/mcp-server.mjs).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { McpExecutor } from '../src/executors/mcp.js';
import { CommandPolicy } from '../src/safety/policy.js';
import { executorSettings, makeKindAssign, pidAlive, recordHooks, tempDir, waitFor } from './helpers.js';

const SERVER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'mcp-server.mjs');
const server = (extra: string[] = []) => ({ command: process.execPath, args: [SERVER, ...extra] });

function executor(dir: string, allow?: string[]): McpExecutor {
  return new McpExecutor(executorSettings(dir), allow ? new CommandPolicy('mcp', allow) : undefined);
}

describe('mcp executor', () => {
  it('calls a tool: its text is stdout, structuredContent feeds json outputs', async () => {
    const tmp = tempDir();
    const rec = recordHooks();
    const a = makeKindAssign(
      'mcp',
      { server: server(), tool: 'add', arguments: { a: 2, b: 3 } },
      {
        outputs: [
          { name: 'text', source: 'stdout', path: '' },
          { name: 'sum', source: 'json', path: 'sum' },
          { name: 'second', source: 'json', path: 'parts.1' },
        ],
      },
    );
    const ex = executor(tmp.dir);
    expect(ex.check(a)).toBeUndefined();
    const run = ex.run(a, rec.hooks);
    const r = await run.done;
    expect(r.outcome).toBe('SUCCEEDED');
    expect(r.outputs).toEqual({ text: '5', sum: '5', second: '3' });
    expect(rec.out.STDOUT).toBe('5\n');
    // The server ran as a process of the attempt and is gone afterwards.
    expect(rec.pids).toHaveLength(1);
    expect(pidAlive(rec.pids[0]!)).toBe(false);
    expect(existsSync(run.cwd)).toBe(false);
    tmp.cleanup();
  });

  it("streams the server's stderr and notes content that is not text", async () => {
    const tmp = tempDir();
    const rec = recordHooks();
    const r = await executor(tmp.dir).run(
      makeKindAssign(
        'mcp',
        { server: server(), tool: 'echo', arguments: { text: 'hi there' } },
        { outputs: [{ name: 'o', source: 'stdout', path: '' }] },
      ),
      rec.hooks,
    ).done;
    expect(r.outcome).toBe('SUCCEEDED');
    expect(r.outputs.o).toBe('hi there');
    expect(rec.out.STDERR).toContain('echoing 8 chars');
    expect(rec.out.SYSTEM).toContain('tool returned image content image/png, 8 base64 chars (not forwarded)');
    tmp.cleanup();
  });

  it('fails the attempt with the message of a tool error or a protocol error', async () => {
    const tmp = tempDir();
    const failed = await executor(tmp.dir).run(makeKindAssign('mcp', { server: server(), tool: 'fail' })).done;
    expect(failed.outcome).toBe('FAILED');
    expect(failed.error).toBe('MCP_TOOL_ERROR: disk on fire');
    const unknown = await executor(tmp.dir).run(makeKindAssign('mcp', { server: server(), tool: 'nope' })).done;
    expect(unknown.outcome).toBe('FAILED');
    expect(unknown.error).toMatch(/^MCP_ERROR: .*Tool nope not found/);
    tmp.cleanup();
  });

  it('reports a server that dies or cannot start', async () => {
    const tmp = tempDir();
    const rec = recordHooks();
    const crashed = await executor(tmp.dir).run(
      makeKindAssign('mcp', { server: server(['--crash']), tool: 'add' }),
      rec.hooks,
    ).done;
    expect(crashed.outcome).toBe('FAILED');
    expect(crashed.error).toMatch(/^MCP_SERVER_EXITED: the server exited with code 3 before answering/);
    expect(rec.out.STDERR).toContain('cannot open its database');
    const missing = await executor(tmp.dir).run(
      makeKindAssign('mcp', { server: { command: '/nonexistent/mcp-server' }, tool: 'add' }),
    ).done;
    expect(missing.outcome).toBe('FAILED');
    expect(missing.error).toMatch(/^AGENT_SPAWN_FAILED: mcp server "\/nonexistent\/mcp-server": .*ENOENT/);
    tmp.cleanup();
  });

  it('forwards progress, and cancel stops the call and kills the server', async () => {
    const tmp = tempDir();
    const pidFile = path.join(tmp.dir, 'server.pid');
    const rec = recordHooks();
    const run = executor(tmp.dir).run(
      makeKindAssign('mcp', { server: { ...server(), env: { MCP_PID_FILE: pidFile } }, tool: 'slow' }),
      rec.hooks,
    );
    await waitFor(() => rec.progress.length >= 2, 10_000);
    expect(rec.progress[0]).toEqual({ fraction: 0.001, message: 'step 1' });
    const serverPid = Number(readFileSync(pidFile, 'utf8'));
    run.cancel('enough');
    const r = await run.done;
    expect(r.outcome).toBe('CANCELLED');
    expect(pidAlive(serverPid)).toBe(false);
    const timed = await executor(tmp.dir).run(
      makeKindAssign('mcp', { server: server(), tool: 'slow' }, { timeoutMs: 500 }),
    ).done;
    expect(timed.outcome).toBe('TIMED_OUT');
    tmp.cleanup();
  });

  it('starts the server in the attempt work dir, and checks args and the allowlist', async () => {
    const tmp = tempDir();
    const ex = executor(tmp.dir, [`${process.execPath} ${SERVER}`]);
    const a = makeKindAssign(
      'mcp',
      { server: server(), tool: 'whoami' },
      { outputs: [{ name: 'cwd', source: 'json', path: 'cwd' }] },
    );
    expect(ex.check(a)).toBeUndefined();
    const run = ex.run(a);
    const r = await run.done;
    expect(r.outputs.cwd).toBe(run.cwd);
    const refused = ex.check(makeKindAssign('mcp', { server: server(['--other']), tool: 'add' }));
    expect(refused?.code).toBe('COMMAND_NOT_ALLOWED');
    expect(refused?.message).toContain('allow.mcp');
    expect(ex.check(makeKindAssign('mcp', { tool: 'add' }))).toEqual({
      code: 'BAD_ASSIGN',
      message: 'mcp: args.server must be { command, args?, env?, cwd? }',
    });
    expect(ex.check(makeKindAssign('mcp', { server: server() }))?.message).toBe(
      'mcp: args.tool must be a non-empty string',
    );
    tmp.cleanup();
  });
});
