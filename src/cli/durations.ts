/**
 * Durations as CLI flags and their environment variables take them: always with a unit (`500ms`,
 * `30s`, `2m`, `1.5h`), and a plain number in the flag's historical unit — seconds for job limits and
 * timeouts, milliseconds for `stasis serve`'s timings and `--ack-timeout`.
 */
import { errors } from '../errors.js';
import { parseDuration } from '../config/units.js';
import type { StasisError } from '../errors.js';

/** A bad value: a usage error for a flag (`--x`), a plain invalid argument for an environment variable. */
function bad(source: string, message: string): StasisError {
  return errors.invalidArgument(message, source.startsWith('-') ? { usage: true, field: source } : { field: source });
}

/** A duration in seconds; a plain number is seconds (`30`, `1.5`). `allowZero` accepts 0. */
export function secondsFlag(v: string, source: string, o: { allowZero?: boolean } = {}): number {
  try {
    return parseDuration(v, source, o);
  } catch (e) {
    throw bad(source, (e as Error).message);
  }
}

/**
 * A duration in whole milliseconds; a plain whole number is milliseconds (`30000`), anything with a
 * unit is converted (`30s` → 30000, `1m` → 60000, `1.5s` → 1500). `allowZero` accepts 0.
 */
export function millisFlag(v: string, source: string, o: { allowZero?: boolean } = {}): number {
  const message = `Expected \`${source}\` to be a duration like \`30s\`, \`1m\`, \`500ms\` or a whole number of milliseconds, got \`${v}\``;
  const t = v.trim();
  let ms: number;
  if (/^\d+$/.test(t)) ms = Number(t);
  else if (/^(\d+(\.\d+)?|\.\d+)\s*[a-z]+$/i.test(t)) {
    try {
      ms = Math.round(parseDuration(t, source, { allowZero: true }) * 1000);
    } catch {
      throw bad(source, message);
    }
  } else throw bad(source, message);
  if (!Number.isSafeInteger(ms) || (ms === 0 && !o.allowZero)) throw bad(source, message);
  return ms;
}
