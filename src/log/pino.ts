/**
 * The Logger on pino: one JSON object per line (`level` as a word, `time` in ISO 8601, `msg`), or
 * pino-pretty's human lines. Lines are written synchronously to the given stream (stderr for
 * `stasis serve`): a node that is SIGKILLed a moment later still has its last lines on record, and
 * stdout stays free for the CLI's own output.
 */
import { pino, stdSerializers, stdTimeFunctions, type Logger as Pino } from 'pino';
import PinoPretty from 'pino-pretty';
import type { Logger, LogFields, LogLevel } from './logger.js';

/** How lines look. */
export type LogFormat = 'json' | 'pretty';

/** Options of createLogger. */
export interface LoggerOptions {
  format: LogFormat;
  level: LogLevel;
  /** Where lines go (default: process.stderr). */
  stream?: NodeJS.WritableStream;
  /** Fields on every line (the node id). */
  base?: LogFields;
  /** Colours in pretty format (default: when the stream is a TTY). */
  colorize?: boolean;
}

function wrap(p: Pino): Logger {
  return {
    debug: (f, m) => p.debug(f, m),
    info: (f, m) => p.info(f, m),
    warn: (f, m) => p.warn(f, m),
    error: (f, m) => p.error(f, m),
    child: (b) => wrap(p.child(b)),
    flush: () => p.flush(),
  };
}

/** A pino-backed Logger. */
export function createLogger(o: LoggerOptions): Logger {
  const stream = o.stream ?? process.stderr;
  const common = {
    level: o.level,
    base: { pid: process.pid, ...(o.base ?? {}) },
    serializers: { err: stdSerializers.err },
  };
  if (o.format === 'pretty') {
    const tty = (stream as { isTTY?: boolean }).isTTY === true;
    const pretty = PinoPretty({
      destination: stream,
      sync: true,
      colorize: o.colorize ?? tty,
      translateTime: 'SYS:HH:MM:ss.l',
      ignore: 'pid,hostname',
    });
    return wrap(pino({ ...common, timestamp: stdTimeFunctions.epochTime }, pretty));
  }
  return wrap(
    pino(
      {
        ...common,
        timestamp: stdTimeFunctions.isoTime,
        formatters: { level: (label: string) => ({ level: label }) },
      },
      stream,
    ),
  );
}
