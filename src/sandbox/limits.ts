/** Parsing and formatting of task resource limits (`256m`, `0.5` CPUs). */
import { errors } from '../errors.js';

const UNITS: Record<string, number> = {
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

/** The largest CPU count accepted by parseCpus. */
export const MAX_CPUS = 1024;

function show(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Parses a byte size (`'256m'`, `'1g'`, `'512k'`, `1048576`; binary units) into a positive integer of bytes. */
export function parseByteSize(v: string | number, field: string): number {
  const bad = () =>
    errors.invalidArgument(`Expected \`${field}\` to be a byte size like \`256m\`, got \`${show(v)}\``, { field });
  let bytes: number;
  if (typeof v === 'number') {
    bytes = v;
  } else if (typeof v === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(v);
    if (!m) throw bad();
    const unit = UNITS[m[2]!.toLowerCase()];
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
    errors.invalidArgument(
      `Expected \`${field}\` to be a number of CPUs above 0 and at most ${MAX_CPUS} like \`0.5\`, got \`${show(v)}\``,
      { field },
    );
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^\s*\d*\.?\d+\s*$/.test(v)) n = Number(v);
  else throw bad();
  if (!Number.isFinite(n) || n <= 0 || n > MAX_CPUS) throw bad();
  return n;
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

/** CFS quota for `cpus` CPUs at the given period (µs), at least 1000 µs as the kernel requires. */
export function cpuQuota(cpus: number, period = 100_000): number {
  return Math.max(1000, Math.round(cpus * period));
}
