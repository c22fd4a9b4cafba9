/**
 * The node's logger as the rest of stasis sees it: four levels, structured fields, child loggers
 * with bound fields. The runner passes one down; only src/log/pino.ts knows it is pino.
 */

/** The levels, quietest last. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
/** A log level (`silent` logs nothing). */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Fields of one line. `err` is an error, serialized with its message, code and stack. */
export type LogFields = Record<string, unknown> & { err?: unknown };

/** A structured logger: `log.info({ jobId }, 'message')` writes one line. */
export interface Logger {
  debug(fields: LogFields, msg: string): void;
  info(fields: LogFields, msg: string): void;
  warn(fields: LogFields, msg: string): void;
  error(fields: LogFields, msg: string): void;
  /** A logger whose lines all carry `bindings`. */
  child(bindings: LogFields): Logger;
  /** Writes out what is buffered (before the process exits). */
  flush(): void;
}

/** A logger that writes nothing (tests, embedded runners). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  child: () => silentLogger,
  flush: () => undefined,
};
