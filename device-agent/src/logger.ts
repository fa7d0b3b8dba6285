// The CLI's logger: pretty lines on a terminal, JSON lines otherwise (for
// journald, launchd logs and log shippers). pino-pretty is loaded only on a
// TTY and runs in-process (no transport worker thread: it would cost RSS).
import pino, { type Logger } from 'pino';

export async function createCliLogger(level = 'info', pretty = process.stdout.isTTY === true): Promise<Logger> {
  if (!pretty) return pino({ level, base: { pid: process.pid } });
  const { default: prettyStream } = await import('pino-pretty');
  return pino({ level }, prettyStream({ colorize: true, sync: true, ignore: 'pid,hostname' }));
}
