// One pino logger per process: readable in a terminal, JSON lines otherwise.
import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export function createLogger(opts: { level?: string; name?: string; pretty?: boolean } = {}): Logger {
  const level = opts.level ?? process.env.ORRERY_LOG_LEVEL ?? 'info';
  const wantPretty = opts.pretty ?? (process.stderr.isTTY === true && process.env.ORRERY_LOG_FORMAT !== 'json');
  if (!wantPretty) return pino({ level, name: opts.name }, pino.destination({ fd: 2, sync: false }));
  // Synchronous pretty stream: no worker thread, lines appear in order with the CLI's own output.
  const stream = pretty({ colorize: true, destination: 2, sync: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss.l' });
  return pino({ level, name: opts.name }, stream);
}
