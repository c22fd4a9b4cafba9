/**
 * Where a running job's output goes on the main thread, each bounded by the job's output cap (the
 * worker only sends what the capped collectors kept):
 *   - job.log: human lines (`[stderr] ` before stderr lines), several per BullMQ entry, a partial line
 *     held until its newline (or the end), and one `[stasis] output truncated` line once a stream hit its cap;
 *   - the output stream `<prefix>:<queue>:stasis:out:<jobId>`: a Redis stream of exact chunks
 *     ({s: 'o'|'e', d: text}) that `stasis run` and `stasis logs --follow --raw` replay byte for byte.
 */
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { DEFAULT_PREFIX, type QueueRef } from './cancel.js';

/** Prefix of stderr lines in job.log (stdout lines have none). */
export const STDERR_LOG_PREFIX = '[stderr] ';
/** The job.log line written once a stream's output passed the job's output cap. */
export const TRUNCATED_LOG_LINE = '[stasis] output truncated (limits.outputBytes); the full log is in the result\'s logPath on the node';
/** How long a job's output stream outlives its last write. */
export const OUTPUT_STREAM_TTL_SECONDS = 24 * 3600;

/** The Redis key of a job's exact output stream. */
export function outputStreamKey(q: QueueRef, jobId: string): string {
  return `${q.prefix ?? DEFAULT_PREFIX}:${q.queue}:stasis:out:${jobId}`;
}

/** One output chunk: exact text, a line keeps its newline. */
export interface OutputChunk {
  stream: 'stdout' | 'stderr';
  data: string;
  partial: boolean;
}

/** Writes a job's output into job.log and its output stream, in batches; flush() resolves once all is written. */
export class JobOutputWriter {
  private rows: string[] = [];
  private chunks: OutputChunk[] = [];
  private readonly open: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<unknown> = Promise.resolve();
  private warned = false;

  constructor(
    private readonly job: Job,
    private readonly everyMs: number,
    private readonly redis?: Redis,
    private readonly ref?: QueueRef,
    /** A write that failed (the output is then missing from job.log or the stream): said once per job. */
    private readonly onLost: (e: unknown) => void = () => undefined,
  ) {}

  /** A failed write: the job runs on, its output has a gap; the first failure is reported. */
  private lost(e: unknown): null {
    if (!this.warned) {
      this.warned = true;
      this.onLost(e);
    }
    return null;
  }

  /** Adds chunks in order. */
  add(chunks: OutputChunk[]): void {
    for (const c of chunks) {
      this.chunks.push(c);
      let text = this.open[c.stream] + c.data;
      let nl: number;
      while ((nl = text.indexOf('\n')) >= 0) {
        this.row(c.stream, text.slice(0, nl));
        text = text.slice(nl + 1);
      }
      this.open[c.stream] = text;
    }
    this.timer ??= setTimeout(() => void this.flush(), this.everyMs);
  }

  /** Notes that a stream hit the job's output cap (one line in job.log). */
  truncated(stream: 'stdout' | 'stderr'): void {
    this.end(stream);
    this.rows.push(`${TRUNCATED_LOG_LINE} [${stream}]`);
    this.timer ??= setTimeout(() => void this.flush(), this.everyMs);
  }

  private row(stream: 'stdout' | 'stderr', line: string): void {
    this.rows.push(stream === 'stderr' ? `${STDERR_LOG_PREFIX}${line}` : line);
  }

  private end(stream: 'stdout' | 'stderr'): void {
    if (this.open[stream] !== '') this.row(stream, this.open[stream]);
    this.open[stream] = '';
  }

  /** Writes everything pending; with `final`, a line still waiting for its newline too. */
  flush(final = false): Promise<unknown> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (final) {
      this.end('stdout');
      this.end('stderr');
    }
    const rows = this.rows;
    const chunks = this.chunks;
    this.rows = [];
    this.chunks = [];
    if (rows.length > 0) this.writing = this.writing.then(() => this.job.log(rows.join('\n')).catch((e: unknown) => this.lost(e)));
    if (chunks.length > 0 && this.redis && this.ref) {
      const key = outputStreamKey(this.ref, this.job.id!);
      const m = this.redis.multi();
      for (const run of runs(chunks)) m.xadd(key, '*', 's', run.stream === 'stderr' ? 'e' : 'o', 'd', run.data);
      m.expire(key, OUTPUT_STREAM_TTL_SECONDS);
      this.writing = this.writing.then(() => m.exec().catch((e: unknown) => this.lost(e)));
    }
    return this.writing;
  }
}

/** Consecutive chunks of one stream joined (fewer stream entries, same bytes in the same order). */
function runs(chunks: OutputChunk[]): { stream: 'stdout' | 'stderr'; data: string }[] {
  const out: { stream: 'stdout' | 'stderr'; data: string }[] = [];
  for (const c of chunks) {
    const last = out[out.length - 1];
    if (last && last.stream === c.stream) last.data += c.data;
    else out.push({ stream: c.stream, data: c.data });
  }
  return out;
}
