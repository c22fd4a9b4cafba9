/**
 * A supervised task's output: one follower tails its k8s-file log (by byte offset) into the capped
 * collectors and streams what they keep over the port, in batches. Once both streams reached their
 * cap nothing more is read (an output flood costs the node the caps, not the flood), and after the
 * exit the tail is read once from the last offset, so no poll interval sits on the critical path.
 */
import type { MessagePort } from 'node:worker_threads';
import { readLog } from '../../monitor/log.js';
import type { LogEntry } from '../../runtime/task.js';
import { OutputCollector } from './output.js';
import { send } from './port.js';

/** Log lines are sent over the port in batches at most this often. */
const LOG_BATCH_MS = 50;

/** Options of an OutputStream. */
export interface OutputStreamOptions {
  port: MessagePort;
  logFile: string;
  cap: number;
  /** Stream kept output over the port (log events). */
  stream: boolean;
  /** Only stream records written at or after this time (attach after a restart). */
  since?: string;
}

/** The output of one supervised task. */
export class OutputStream {
  readonly out: OutputCollector;
  private offset = 0;
  private batch: { stream: 'stdout' | 'stderr'; data: string; partial: boolean }[] = [];
  private batchTimer: NodeJS.Timeout | null = null;
  private readonly follow = new AbortController();
  private follower: Promise<void> | null = null;
  private exited = false;
  private readonly told = new Set<string>();
  /** The first stderr text (a launch failure's one line), kept apart from the capped output. */
  firstStderr: string | undefined;

  constructor(private readonly o: OutputStreamOptions) {
    this.out = new OutputCollector(o.cap);
  }

  /** Starts following the log. */
  start(): void {
    const isDone = async () => this.exited;
    this.follower = (async () => {
      for await (const e of readLog(this.o.logFile, { follow: true, signal: this.follow.signal, isDone })) {
        this.take(e);
        if (this.out.full) break;
      }
    })().catch(() => undefined);
  }

  private take(e: LogEntry & { offset: number }): void {
    this.offset = e.offset;
    if (e.stream === 'stderr' && this.firstStderr === undefined) this.firstStderr = e.data;
    const kept = this.out.add(e);
    const capped = e.stream === 'stderr' ? this.out.stderr : this.out.stdout;
    if (capped.truncated && !this.told.has(e.stream)) {
      this.told.add(e.stream);
      this.flush();
      send(this.o.port, { type: 'output-truncated', stream: e.stream });
    }
    if (kept === '' || !this.o.stream || (this.o.since && e.time < this.o.since)) return;
    const partial = !kept.endsWith('\n');
    this.batch.push({ stream: e.stream, data: kept, partial });
    this.batchTimer ??= setTimeout(() => this.flush(), LOG_BATCH_MS);
  }

  /** Sends the pending batch now. */
  flush(): void {
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.batchTimer = null;
    if (this.batch.length === 0) return;
    send(this.o.port, { type: 'log', lines: this.batch });
    this.batch = [];
  }

  /** After the exit: stops the follower and reads what is left from its last offset (unless both caps are reached). */
  async finish(): Promise<void> {
    this.exited = true;
    this.follow.abort();
    await this.follower;
    if (!this.out.full) for await (const e of readLog(this.o.logFile, { fromOffset: this.offset })) {
      this.take(e);
      if (this.out.full) break;
    }
    this.flush();
  }
}
