/** Units people type: byte sizes (`256m`), CPU counts (`0.5`) and durations (`30s`, `1.5m`); parsing and formatting. */
import { z } from 'zod';
import { errors, hasCode } from '../errors.js';

const BYTE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

const DURATION_UNITS: Record<string, number> = { '': 1, ms: 0.001, s: 1, sec: 1, m: 60, min: 60, h: 3600, d: 86400 };

/** The largest CPU count accepted by parseCpus. */
export const MAX_CPUS = 1024;

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Parses a byte size (`'256m'`, `'1g'`, `'512k'`, `1048576`; binary units) into a positive integer of bytes. */
export function parseByteSize(v: string | number, field: string): number {
  const bad = () => errors.invalidArgument(`Expected \`${field}\` to be a byte size like \`256m\`, got \`${show(v)}\``, { field });
  let bytes: number;
  if (typeof v === 'number') {
    bytes = v;
  } else if (typeof v === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(v);
    if (!m) throw bad();
    const unit = BYTE_UNITS[m[2]!.toLowerCase()];
    if (unit === undefined) throw bad();
    bytes = Math.round(Number(m[1]) * unit);
  } else {
    throw bad();
  }
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw bad();
  return bytes;
}

/** Parses a CPU count (`'0.5'`, `2`): a number > 0 and <= 1024. */
export function parseCpus(v: string | number, field: string): number {
  const bad = () =>
    errors.invalidArgument(`Expected \`${field}\` to be a number of CPUs above 0 and at most ${MAX_CPUS} like \`0.5\`, got \`${show(v)}\``, {
      field,
    });
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^\s*\d*\.?\d+\s*$/.test(v)) n = Number(v);
  else throw bad();
  if (!Number.isFinite(n) || n <= 0 || n > MAX_CPUS) throw bad();
  return n;
}

/**
 * Parses a duration into seconds: a number of seconds (`30`, `1.5`) or a number with a unit
 * (`500ms`, `30s`, `2m`, `1.5h`, `1d`). `allowZero` accepts 0 (a grace period may be none).
 */
export function parseDuration(v: string | number, field: string, o: { allowZero?: boolean } = {}): number {
  const bad = () => errors.invalidArgument(`Expected \`${field}\` to be a duration like \`30s\`, \`2m\` or a number of seconds, got \`${show(v)}\``, { field });
  let seconds: number;
  if (typeof v === 'number') {
    seconds = v;
  } else if (typeof v === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([a-z]*)\s*$/i.exec(v);
    if (!m) throw bad();
    const unit = DURATION_UNITS[m[2]!.toLowerCase()];
    if (unit === undefined) throw bad();
    seconds = Number(m[1]) * unit;
  } else {
    throw bad();
  }
  if (!Number.isFinite(seconds) || seconds < 0 || (seconds === 0 && !o.allowZero)) throw bad();
  return seconds;
}

/** Formats bytes for humans with binary units: 268435456 → '256MiB', 1536 → '1.5KiB'. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const s = Number.isInteger(v) ? String(v) : v.toFixed(1).replace(/\.0$/, '');
  return `${s}${units[i]}`;
}

/** Formats seconds for humans: 90 → '90s', 0.5 → '500ms', 7200 → '7200s'. */
export function formatSeconds(s: number): string {
  return s < 1 ? `${Math.round(s * 1000)}ms` : `${Number.isInteger(s) ? s : s.toFixed(1)}s`;
}

/** Wraps a parser as a zod transform whose failure message is the parser's own (it names the field). */
function viaParser<T>(parse: (v: string | number, field: string) => T) {
  return z.union([z.string(), z.number()]).transform((v, ctx) => {
    try {
      return parse(v, ctx.path.join('.'));
    } catch (e) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: hasCode(e) ? e.message : String(e) });
      return z.NEVER;
    }
  });
}

/** zod: a byte size given as `'256m'` or a number of bytes, parsed into bytes. */
export const byteSizeSchema = viaParser(parseByteSize);
/** zod: a CPU count given as `0.5` or `'0.5'`. */
export const cpusSchema = viaParser(parseCpus);
/** zod: a duration given as seconds or `'30s'`/`'2m'`, parsed into seconds (> 0). */
export const durationSchema = viaParser((v, f) => parseDuration(v, f));
/** zod: a duration that may be 0 (a grace period). */
export const durationOrZeroSchema = viaParser((v, f) => parseDuration(v, f, { allowZero: true }));
