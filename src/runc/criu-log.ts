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
