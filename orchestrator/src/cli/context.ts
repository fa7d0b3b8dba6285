// Options every client command shares: where the server is and the token.
import type { Command } from 'commander';
import { ApiClient } from './api-client.js';

export const DEFAULT_SERVER = 'http://127.0.0.1:7070';

export function clientFrom(cmd: Command): ApiClient {
  const opts = cmd.optsWithGlobals<{ server?: string; token?: string }>();
  const server = opts.server ?? process.env.ORRERY_SERVER ?? DEFAULT_SERVER;
  return new ApiClient(server, opts.token ?? process.env.ORRERY_TOKEN);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
