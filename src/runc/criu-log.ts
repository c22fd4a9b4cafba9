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

/** CRIU's last `Error (file.c:NN): message` line in a dump/restore log, as "message (file.c:NN)". */
export function lastCriuError(log: string): string | undefined {
  const lines = log.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const l = lines[i]!.trim();
    const m = CRIU_ERROR.exec(l);
    if (!m) continue;
    if (/RLIMIT_NOFILE/.test(m[2]!)) continue; // harmless on these hosts, logged on every run
    return `${m[2]!.trim()} (${m[1]})`;
  }
  return undefined;
}

/** Reads the tail of CRIU's log at `path` and returns its last error (undefined when unreadable). */
export async function readCriuError(path: string): Promise<string | undefined> {
  try {
    const fh = await open(path, 'r');
    try {
      const { size } = await fh.stat();
      const len = Math.min(size, 256 * 1024);
      const buf = Buffer.alloc(len);
      await fh.read(buf, 0, len, size - len);
      return lastCriuError(buf.toString('utf8'));
    } finally {
      await fh.close();
    }
  } catch {
    return undefined;
  }
}
