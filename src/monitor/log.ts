/**
 * conmon's k8s-file log: one record per line, "<RFC3339Nano> <stdout|stderr> <F|P> <text>", where
 * P marks a partial line (no newline yet, or split at conmon's buffer size). readLog tails it by
 * byte offset, across conmon's log-size-max truncation and a rename-then-reopen rotation.
 */
import fs from 'node:fs';
import local from '../os/local-fs.js';

/** One line of a task's or exec's log. */
export interface LogEntry {
  time: string;
  stream: 'stdout' | 'stderr';
  /** The line's text without its newline; `partial` when the line was split by the monitor. */
  data: string;
  partial: boolean;
}

const LINE = /^(\S+) (stdout|stderr) ([FP]) ?(.*)$/s;

/** Parses one k8s-file record (without its trailing newline); null when it is not one. */
export function parseLogLine(line: string): LogEntry | null {
  const m = LINE.exec(line.endsWith('\n') ? line.slice(0, -1) : line);
  if (!m) return null;
  return { time: m[1]!, stream: m[2] as 'stdout' | 'stderr', partial: m[3] === 'P', data: m[4]! };
}

/** Options of readLog. */
export interface ReadLogOptions {
  /** Keep tailing at EOF until `isDone()` says the writer is finished (then drain and stop) or `signal` aborts. */
  follow?: boolean;
  signal?: AbortSignal;
  /** Byte offset to start at (an `offset` from a previous entry resumes right after it). */
  fromOffset?: number;
  /** When following: true once no more lines can come (e.g. the exit file exists). Polled at EOF. */
  isDone?: () => Promise<boolean>;
  /** Poll interval at EOF when following (default 200 ms; fs.watch wakes it earlier). */
  pollMs?: number;
}

const CHUNK = 64 * 1024;

/**
 * Yields the log's entries; `offset` is the byte offset just past the entry (resume point).
 * Without `follow` it stops at EOF; a missing file yields nothing. Unparseable lines are skipped.
 */
export async function* readLog(path: string, o: ReadLogOptions = {}): AsyncIterable<LogEntry & { offset: number }> {
  let offset = o.fromOffset ?? 0;
  let ino: number | undefined;
  let pending = Buffer.alloc(0);
  const waiter = o.follow ? new ChangeWaiter(path, o.pollMs ?? 200, o.signal) : undefined;
  try {
    for (;;) {
      if (o.signal?.aborted) return;
      // Its size by a stat on the calling thread (a metadata call, whatever the log's size); its
      // contents through the thread pool. No log yet (conmon has not created it): nothing to read.
      const st = await local.stat(path).catch(() => null);
      if (st) {
        if ((ino !== undefined && st.ino !== ino) || st.size < offset) {
          offset = 0; // rotated (new file) or truncated by --log-size-max
          pending = Buffer.alloc(0);
        }
        ino = st.ino;
      }
      let progressed = false;
      if (st && st.size > offset) {
        const fh = await fs.promises.open(path, 'r');
        try {
          for (;;) {
            const buf = Buffer.alloc(CHUNK);
            const { bytesRead } = await fh.read(buf, 0, CHUNK, offset + pending.length);
            if (bytesRead === 0) break;
            progressed = true;
            pending = Buffer.concat([pending, buf.subarray(0, bytesRead)]);
            let nl: number;
            while ((nl = pending.indexOf(0x0a)) >= 0) {
              const line = pending.subarray(0, nl).toString('utf8');
              offset += nl + 1;
              pending = pending.subarray(nl + 1);
              const e = parseLogLine(line);
              if (e) yield { ...e, offset };
              if (o.signal?.aborted) return;
            }
          }
        } finally {
          await fh.close();
        }
      }
      if (!waiter) return;
      if (progressed) continue;
      if (o.isDone && (await o.isDone())) {
        // One more pass: conmon may have flushed the last lines before the exit file appeared.
        // Gone meanwhile (the task was deleted): nothing more to read.
        const after = await local.stat(path).catch(() => null);
        if (!after || after.size <= offset + pending.length) return;
        continue;
      }
      await waiter.wait();
    }
  } finally {
    waiter?.close();
  }
}

/** Resolves wait() on a change of the file's directory entry or after `pollMs`, whichever first. */
class ChangeWaiter {
  private watcher: fs.FSWatcher | undefined;
  private wake: (() => void) | undefined;

  constructor(file: string, private readonly pollMs: number, private readonly signal?: AbortSignal) {
    try {
      this.watcher = fs.watch(file, { persistent: false }, () => this.wake?.());
      this.watcher.on('error', () => this.watcher?.close());
    } catch {
      this.watcher = undefined;
    }
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  private onAbort = () => this.wake?.();

  wait(): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, this.pollMs);
      const self = this;
      function done() {
        clearTimeout(t);
        self.wake = undefined;
        resolve();
      }
      this.wake = done;
      if (this.signal?.aborted) done();
    });
  }

  close(): void {
    this.watcher?.close();
    this.signal?.removeEventListener('abort', this.onAbort);
  }
}
