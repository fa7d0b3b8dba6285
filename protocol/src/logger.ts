// The logging surface the package needs. A pino.Logger satisfies it, so the
// package does not depend on pino; the default logs nothing.
export interface AipLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => {};

export const silentLogger: AipLogger = { debug: noop, info: noop, warn: noop, error: noop };
