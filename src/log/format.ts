/** The `--log-format` and `--log-level` settings of `stasis serve` (pure). */
import { LOG_LEVELS, type LogLevel } from './logger.js';
import type { LogFormat } from './pino.js';

/** The formats `--log-format` takes. */
export const LOG_FORMATS = ['json', 'pretty'] as const satisfies readonly LogFormat[];

/** The format of a flag value: as given, else pretty on a terminal and JSON otherwise; null when unknown. */
export function logFormatOf(value: string | undefined, isTTY: boolean): LogFormat | null {
  if (value === undefined || value === '') return isTTY ? 'pretty' : 'json';
  const v = value.trim().toLowerCase();
  return (LOG_FORMATS as readonly string[]).includes(v) ? (v as LogFormat) : null;
}

/** The level of a flag value (default info); null when unknown. */
export function logLevelOf(value: string | undefined): LogLevel | null {
  if (value === undefined || value === '') return 'info';
  const v = value.trim().toLowerCase();
  return (LOG_LEVELS as readonly string[]).includes(v) ? (v as LogLevel) : null;
}
