import { open } from 'node:fs/promises';

/**
 * Finding CRIU's log in runc or conmon output. When CRIU fails, runc reports
 *   criu failed: type DUMP errno 0\nlog file: /path/work/dump.log
 * (the \n may be a real newline or a Go/JSON escape, depending on how many layers quoted it).
 */

const LOG_FILE = /log file: (\/[^\s"'\\]+?\.log)/g;

/** The last `log file: /…/{dump,restore,…}.log` path mentioned in `text`, if any. */
export function criuLogPath(text: string): string | undefined {
  let last: string | undefined;
  for (const m of text.matchAll(LOG_FILE)) last = m[1];
  return last;
}

const CRIU_ERROR = /\bError \(([^)]+)\): (.*)$/;

/**
 * Error lines that follow the real one (the restore is already failing) or say nothing: CRIU logs
 * RLIMIT_NOFILE on every run here, and after a failure its cgroup daemon and the final summary.
 */
const NOISE = /RLIMIT_NOFILE|cgroupd|Restoring FAILED|Dumping FAILED|^Failed to (?:restore|dump)\b|criu failed|Unable to restore/i;

/** CRIU's `Error (file.c:NN): message` lines of a log, as "message (file.c:NN)", noise left out. */
export function criuErrors(log: string): string[] {
  const out: string[] = [];
  for (const line of log.split('\n')) {
    const m = CRIU_ERROR.exec(line.trim());
    if (m && !NOISE.test(m[2]!)) out.push(`${m[2]!.trim()} (${m[1]})`);
  }
  return out;
}

/** CRIU's last real error line of a log (see criuErrors). */
export function lastCriuError(log: string): string | undefined {
  return criuErrors(log).at(-1);
}

/** The error that explains a failure: the first real one, and the last when it differs ("first; …; last"). */
export function criuCause(log: string): string | undefined {
  const all = criuErrors(log);
  if (all.length === 0) return undefined;
  return all.length === 1 ? all[0] : `${all[0]} … ${all.at(-1)}`;
}

/** Reads CRIU's log at `path` (its last 4 MiB) and returns the error that explains the failure (criuCause). */
export async function readCriuError(path: string): Promise<string | undefined> {
  try {
    const fh = await open(path, 'r');
    try {
      const { size } = await fh.stat();
      const len = Math.min(size, 4 * 1024 * 1024);
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, size - len);
      return criuCause(buf.toString('utf8'));
    } finally {
      await fh.close();
    }
  } catch {
    return undefined;
  }
}
