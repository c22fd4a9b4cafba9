/** Collects a task's stdout and stderr up to a byte cap each, remembering whether anything was cut. */
import type { LogEntry } from '../../runtime/task.js';

/** One capped stream. */
class CappedText {
  private parts: string[] = [];
  private bytes = 0;
  truncated = false;
  constructor(private readonly cap: number) {}

  /** Appends `text` and returns what was kept of it ('' once the cap is reached). */
  add(text: string): string {
    if (this.truncated) return '';
    const n = Buffer.byteLength(text);
    if (this.bytes + n <= this.cap) {
      this.parts.push(text);
      this.bytes += n;
      return text;
    }
    const room = this.cap - this.bytes;
    let cut = '';
    if (room > 0) {
      // Cut on a byte boundary, then drop a trailing partial UTF-8 character.
      cut = Buffer.from(text).subarray(0, room).toString('utf8').replace(/\uFFFD$/, '');
      this.parts.push(cut);
      this.bytes += Buffer.byteLength(cut);
    }
    this.truncated = true;
    return cut;
  }

  /** The collected text. */
  text(): string {
    return this.parts.join('');
  }
}

/** stdout and stderr of one task, each capped at `cap` bytes. */
export class OutputCollector {
  readonly stdout: CappedText;
  readonly stderr: CappedText;
  constructor(cap: number) {
    this.stdout = new CappedText(cap);
    this.stderr = new CappedText(cap);
  }

  /** Adds one log entry (a full line gets its newline back; a partial one does not); returns what was kept. */
  add(e: LogEntry): string {
    return (e.stream === 'stderr' ? this.stderr : this.stdout).add(e.partial ? e.data : `${e.data}\n`);
  }

  /** True once both streams reached the cap: nothing more needs reading. */
  get full(): boolean {
    return this.stdout.truncated && this.stderr.truncated;
  }
}
