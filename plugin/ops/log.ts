// A thin structured logger over winston. Always writes to stderr: a CLN plugin's stdout carries
// JSON-RPC only. Log fields must never carry secrets (preimages, keys, path ids' HMAC halves).
import winston from 'winston';

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export function createLogger(opts: { level?: LogLevel; json?: boolean; component?: string } = {}): Logger {
  const w = winston.createLogger({
    level: opts.level ?? 'info',
    defaultMeta: opts.component ? { component: opts.component } : {},
    format: winston.format.combine(
      winston.format.timestamp(),
      opts.json === false ? winston.format.simple() : winston.format.json({ replacer: bigintReplacer }),
    ),
    // stderrLevels covers every level so nothing ever reaches stdout.
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
  return wrap(w);
}

function bigintReplacer(_k: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

function wrap(w: winston.Logger): Logger {
  return {
    debug: (m, f) => w.debug(m, f),
    info: (m, f) => w.info(m, f),
    warn: (m, f) => w.warn(m, f),
    error: (m, f) => w.error(m, f),
    child: (f) => wrap(w.child(f)),
  };
}

/** A logger that drops everything, for tests. */
export const nullLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => nullLogger,
};

/** A logger that records lines in memory, for tests that assert a log line was written. */
export function memoryLogger(): Logger & { lines: { level: LogLevel; msg: string; fields: LogFields }[] } {
  const lines: { level: LogLevel; msg: string; fields: LogFields }[] = [];
  const make = (base: LogFields): Logger => ({
    debug: (msg, f) => lines.push({ level: 'debug', msg, fields: { ...base, ...f } }),
    info: (msg, f) => lines.push({ level: 'info', msg, fields: { ...base, ...f } }),
    warn: (msg, f) => lines.push({ level: 'warn', msg, fields: { ...base, ...f } }),
    error: (msg, f) => lines.push({ level: 'error', msg, fields: { ...base, ...f } }),
    child: (f) => make({ ...base, ...f }),
  });
  return Object.assign(make({}), { lines });
}
