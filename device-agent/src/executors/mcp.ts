// The `mcp` executor: starts a Model Context Protocol server over stdio,
// calls one of its tools with @modelcontextprotocol/sdk's Client, and stops
// the server. The server runs like a shell task (own process group, the
// attempt's work dir, env and account); its stderr is the attempt's stderr.
// The tool's text content is the attempt's stdout; `structuredContent`,
// when present, is what `json` outputs read. A tool error (isError) or a
// protocol error fails the attempt with the server's message.
import path from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { Assign } from '@orrery/protocol/client';
import { type CommandPolicy, notAllowed } from '../safety/policy.js';
import { AGENT_VERSION } from '../version.js';
import {
  type Args,
  ArgsError,
  duration,
  onlyKeys,
  optStr,
  parseArgsJson,
  readArgs,
  str,
  strList,
  strMap,
} from './args.js';
import { type AttemptIo, startAttempt, type WorkEnd } from './attempt-runner.js';
import { type GroupProcess, spawnInGroup } from './group-process.js';
import type { AssignProblem, AttemptHooks, ExecutorSettings, RunningAttempt, TaskExecutor } from './types.js';

/** No limit of our own on a tool call: the task's timeout bounds it (the SDK's default is 60 s). */
const NO_TIMEOUT_MS = 2_147_483_647;
/** Starting the server and the MCP handshake. */
const CONNECT_TIMEOUT_MS = 30_000;

export interface McpArgs {
  server: { command: string; args: string[]; env: Record<string, string>; cwd?: string };
  tool: string;
  arguments: Record<string, unknown>;
  timeoutMs?: number;
}

export function parseMcpArgs(args: Args): McpArgs {
  onlyKeys(args, ['server', 'tool', 'arguments', 'timeout']);
  const server = args.server;
  if (typeof server !== 'object' || server === null || Array.isArray(server)) {
    throw new ArgsError('args.server must be { command, args?, env?, cwd? }');
  }
  const s = server as Args;
  onlyKeys(s, ['command', 'args', 'env', 'cwd'], 'args.server');
  const toolArgs = args.arguments ?? {};
  if (typeof toolArgs !== 'object' || toolArgs === null || Array.isArray(toolArgs))
    throw new ArgsError('args.arguments must be a map');
  const cwd = optStr(s, 'cwd', 'args.server');
  const parsed: McpArgs = {
    server: {
      command: str(s, 'command', 'args.server'),
      args: strList(s, 'args', 'args.server'),
      env: strMap(s, 'env', 'args.server'),
      ...(cwd ? { cwd } : {}),
    },
    tool: str(args, 'tool'),
    arguments: toolArgs as Record<string, unknown>,
  };
  const timeoutMs = duration(args, 'timeout');
  if (timeoutMs !== undefined && timeoutMs > 0) parsed.timeoutMs = timeoutMs;
  return parsed;
}

/** `command arg1 arg2`: what allow.mcp patterns are matched against. */
export function serverCommandLine(a: McpArgs): string {
  return [a.server.command, ...a.server.args].join(' ');
}

export class McpExecutor implements TaskExecutor {
  readonly kind = 'mcp';

  constructor(
    private readonly settings: ExecutorSettings,
    private readonly allow?: CommandPolicy,
  ) {}

  check(assign: Assign): AssignProblem | undefined {
    const read = readArgs(assign, parseMcpArgs);
    if ('problem' in read) return read.problem;
    const args = read.args;
    const line = serverCommandLine(args);
    if (this.allow && !this.allow.matches(line))
      return notAllowed(this.allow, `mcp server ${JSON.stringify(line.slice(0, 200))}`);
    return undefined;
  }

  describe(assign: Assign): string {
    try {
      const a = parseMcpArgs(parseArgsJson(assign));
      return `tool ${a.tool} of ${serverCommandLine(a).slice(0, 160)}`;
    } catch {
      return 'mcp (bad args)';
    }
  }

  run(assign: Assign, hooks: AttemptHooks = {}): RunningAttempt {
    return startAttempt(this.settings, assign, hooks, (io) => callTool(io, parseMcpArgs(parseArgsJson(assign))));
  }
}

async function callTool(io: AttemptIo, args: McpArgs): Promise<WorkEnd> {
  // Loaded on first use: an agent that never runs mcp tasks does not pay for the SDK.
  const [{ Client }, { ReadBuffer, serializeMessage }] = await Promise.all([
    import('@modelcontextprotocol/sdk/client/index.js'),
    import('@modelcontextprotocol/sdk/shared/stdio.js'),
  ]);
  const proc = spawnInGroup(io, args.server.command, args.server.args, {
    cwd: args.server.cwd ? path.resolve(io.cwd, args.server.cwd) : io.cwd,
    env: { ...io.env(), ...args.server.env },
    stdin: 'pipe',
  });
  proc.child.stderr?.on('data', (d: Buffer) => io.stderr(d));
  const transport = new ProcessTransport(proc, new ReadBuffer(), serializeMessage, io.settings.killGraceMs);
  const client: Client = new Client({ name: 'orrery-agent', version: AGENT_VERSION });
  const exited = proc.closed.then((end) => end);
  try {
    await client.connect(transport, { signal: io.signal, timeout: CONNECT_TIMEOUT_MS });
    const result = await client.callTool({ name: args.tool, arguments: args.arguments }, undefined, {
      signal: io.signal,
      timeout: args.timeoutMs ?? NO_TIMEOUT_MS,
      onprogress: (p) => {
        if (p.total && p.total > 0)
          io.progress({ fraction: Math.min(1, p.progress / p.total), message: p.message ?? '' });
      },
    });
    const texts: string[] = [];
    for (const item of (result.content ?? []) as Array<Record<string, unknown>>) {
      if (item.type === 'text' && typeof item.text === 'string') texts.push(item.text);
      else if (item.type === 'resource' && typeof (item.resource as { text?: unknown })?.text === 'string') {
        texts.push((item.resource as { text: string }).text);
      } else io.note(`tool returned ${describeContent(item)}`);
    }
    const text = texts.join('\n');
    if (text !== '') io.stdout(Buffer.from(`${text}\n`));
    if (result.isError) return { error: `MCP_TOOL_ERROR: ${text || `tool '${args.tool}' reported an error`}` };
    return result.structuredContent !== undefined ? { document: { value: result.structuredContent } } : {};
  } catch (err) {
    if (io.signal.aborted) return {};
    const end = await settleSoon(exited, 200);
    if (end?.error)
      return { error: `AGENT_SPAWN_FAILED: mcp server ${JSON.stringify(args.server.command)}: ${end.error}` };
    if (end) {
      const how = end.signal ? `was killed by ${end.signal}` : `exited with code ${end.code}`;
      return {
        error: `MCP_SERVER_EXITED: the server ${how} before answering (its stderr is in the log): ${(err as Error).message}`,
      };
    }
    return { error: `MCP_ERROR: ${(err as Error).message}` };
  } finally {
    await client.close().catch(() => {});
    proc.kill();
    await exited;
  }
}

function describeContent(item: Record<string, unknown>): string {
  const mime = typeof item.mimeType === 'string' ? ` ${item.mimeType}` : '';
  const size = typeof item.data === 'string' ? `, ${item.data.length} base64 chars` : '';
  return `${String(item.type)} content${mime}${size} (not forwarded)`;
}

async function settleSoon<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([
    p,
    new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms))),
  ]);
  clearTimeout(timer);
  return r;
}

/**
 * The SDK's stdio framing over a process we started ourselves (the SDK's own
 * StdioClientTransport spawns without a process group or another account).
 */
class ProcessTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  private closed = false;

  constructor(
    private readonly proc: GroupProcess,
    private readonly buffer: { append(chunk: Buffer): void; readMessage(): JSONRPCMessage | null; clear(): void },
    private readonly serialize: (m: JSONRPCMessage) => string,
    private readonly graceMs: number,
  ) {}

  async start(): Promise<void> {
    const child = this.proc.child;
    child.stdout?.on('data', (chunk: Buffer) => {
      try {
        this.buffer.append(chunk);
        for (let m = this.buffer.readMessage(); m !== null; m = this.buffer.readMessage()) this.onmessage?.(m);
      } catch (err) {
        this.onerror?.(err as Error);
      }
    });
    child.stdin?.on('error', (err) => this.onerror?.(err));
    void this.proc.closed.then(() => this.markClosed());
    if (child.pid === undefined) {
      const end = await this.proc.closed;
      throw new Error(end.error ?? 'the server did not start');
    }
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.buffer.clear();
    this.onclose?.();
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      const stdin = this.proc.child.stdin;
      if (this.closed || !stdin || stdin.destroyed) {
        reject(new Error('the MCP server is not running'));
        return;
      }
      if (stdin.write(this.serialize(message))) resolve();
      else stdin.once('drain', resolve);
    });
  }

  /** Ends the server's stdin (how stdio servers are asked to stop), then kills its group after the grace period. */
  async close(): Promise<void> {
    this.proc.child.stdin?.end();
    const timer = setTimeout(() => this.proc.kill(), Math.min(this.graceMs, 2_000));
    await this.proc.closed;
    clearTimeout(timer);
    this.markClosed();
  }
}
