/**
 * The typed client for producer applications: submit a job, wait for its result envelope, read its
 * status and logs, cancel it. Plain BullMQ underneath (Queue, QueueEvents, Job); anything here can
 * also be done without stasis code (docs/client.md).
 */
import { migrateJob, type MigrateResult } from './migration.js';
import type { ControlTimeouts } from './control-client.js';
import { Job, Queue, QueueEvents } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { StasisError, errors } from '../errors.js';
import { FAILED_RESULT_KEY, JobPayloadSchema, formatIssues, type JobPayloadInput } from './job-schema.js';
import { toJobResult, type JobResult } from './result.js';
import { failedJobError } from './failure.js';
import type { CancelOutcome, ConnectOptions, JobStatusInfo, LogsOptions, StasisClientOptions, SubmitOptions } from './client-types.js';

export type { CancelOutcome, ConnectOptions, JobStatusInfo, LogsOptions, StasisClientOptions, SubmitOptions } from './client-types.js';
export { failedJobError } from './failure.js';
export { toJobResult } from './result.js';
import { DEFAULT_PREFIX, readCancelRequest, requestCancel, type QueueRef } from './cancel.js';
import { BASE_REDIS_OPTIONS, resolveConnection, type ResolvedConnection } from './connection.js';
import { JobControl } from './job-control.js';
import { readOutput } from './output-read.js';
import type { OutputChunk } from './output-log.js';

/** The queue name used when none is given (env STASIS_QUEUE overrides it). */
export const DEFAULT_QUEUE = 'stasis';

/** The queue name: explicit, then STASIS_QUEUE, then 'stasis'. */
export function queueNameFrom(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return explicit || env.STASIS_QUEUE || DEFAULT_QUEUE;
}

const FINISHED: ReadonlySet<string> = new Set(['completed', 'failed', 'unknown']);

function iso(ms: number | undefined): string | null {
  return typeof ms === 'number' && ms > 0 ? new Date(ms).toISOString() : null;
}

/** A producer's handle on a stasis queue. close() when done. */
export class StasisClient {
  /** The BullMQ queue (for anything the client does not wrap). */
  readonly queue: Queue;
  readonly queueName: string;
  /** Control of running jobs: pause, resume, kill, exec, ps, stats, update, resize, checkpoint (job-control.ts). */
  readonly control: JobControl;
  private readonly ref: QueueRef;
  private readonly connection: RedisOptions;
  private events: Promise<QueueEvents> | null = null;
  private redis: Redis | null = null;
  private onClose: (() => Promise<void>) | null = null;
  private readonly onError: (e: Error) => void;

  constructor(o: StasisClientOptions) {
    this.connection = { ...o.connection, ...BASE_REDIS_OPTIONS };
    this.queueName = o.queue ?? DEFAULT_QUEUE;
    this.ref = { queue: this.queueName, prefix: o.prefix ?? DEFAULT_PREFIX };
    this.onError = o.onError ?? (() => undefined);
    this.queue = new Queue(this.queueName, { connection: this.connection, prefix: this.ref.prefix });
    // Without a listener an 'error' event (Redis went away) would crash the producer's process.
    this.queue.on('error', this.onError);
    this.control = new JobControl(this.queue, this.ref, () => this.conn());
  }

  /** Connects like the CLI: `redis` URL, then REDIS_URL, then the embedded Redis under `stateDir`. */
  static async connect(o: ConnectOptions = {}): Promise<StasisClient> {
    const env = o.env ?? process.env;
    const conn: ResolvedConnection = await resolveConnection({
      ...(o.redis !== undefined ? { redis: o.redis } : {}),
      env,
      stateDir: o.stateDir ?? env.STASIS_STATE_DIR ?? '/var/lib/stasis',
    });
    const client = new StasisClient({
      connection: conn.options,
      queue: queueNameFrom(o.queue, env),
      ...(o.prefix ? { prefix: o.prefix } : {}),
      ...(o.onError ? { onError: o.onError } : {}),
    });
    client.onClose = () => conn.release();
    return client;
  }

  /** Validates `payload` (field-level ERR_INVALID_ARGUMENT) and adds it; resolves to the job id. */
  async submit(payload: JobPayloadInput, opts: SubmitOptions = {}): Promise<string> {
    const parsed = JobPayloadSchema.safeParse(payload);
    if (!parsed.success) {
      const lines = formatIssues(parsed.error.issues);
      throw errors.invalidArgument(`invalid job payload: ${lines.join('; ')}`, {
        field: parsed.error.issues[0]?.path.join('.') || '(payload)',
        issues: lines,
      });
    }
    const { name, ...jobOpts } = opts;
    const job = await this.queue.add(name ?? 'run', payload, jobOpts);
    if (!job.id) throw errors.internal('BullMQ returned a job without an id');
    return job.id;
  }

  /**
   * Waits until the job finishes and resolves to its result envelope. Rejects with ERR_NOT_FOUND for
   * an unknown id, failedJobError() when the job failed (details.failedReason), and ERR_UNAVAILABLE
   * when `timeoutMs` passes first (the job keeps running).
   */
  async wait(jobId: string, o: { timeoutMs?: number } = {}): Promise<JobResult> {
    const job = await this.job(jobId);
    const events = await this.queueEvents();
    try {
      return this.envelope(jobId, await job.waitUntilFinished(events, o.timeoutMs));
    } catch (e) {
      const state = await this.queue.getJobState(jobId);
      if (state === 'failed') throw await this.failure(jobId);
      if (state === 'completed') return this.envelope(jobId, (await this.job(jobId)).returnvalue);
      if (o.timeoutMs !== undefined) {
        throw errors.unavailable(`job ${jobId} did not finish within ${o.timeoutMs} ms (it is ${state})`, { jobId, state, timeoutMs: o.timeoutMs });
      }
      throw e;
    }
  }

  /** The result envelope of a completed job; null while it has not finished; ERR_RUNTIME when it failed. */
  async result(jobId: string): Promise<JobResult | null> {
    const job = await this.job(jobId);
    const state = await job.getState();
    if (state === 'failed') throw await this.failure(jobId);
    if (state !== 'completed') return null;
    return this.envelope(jobId, job.returnvalue);
  }

  /** The job's state, progress, attempts, times and (once completed) its result envelope. */
  async status(jobId: string): Promise<JobStatusInfo> {
    const job = await this.job(jobId);
    const state = await job.getState();
    const cancel = await readCancelRequest(await this.conn(), this.ref, jobId);
    const progress = job.progress;
    return {
      id: jobId,
      name: job.name,
      state,
      progress: typeof progress === 'object' || (typeof progress === 'number' && progress !== 0) ? progress : null,
      attemptsMade: job.attemptsMade,
      failedReason: job.failedReason || null,
      createdAt: iso(job.timestamp),
      processedAt: iso(job.processedOn),
      finishedAt: iso(job.finishedOn),
      result: state === 'completed' ? toJobResult(job.returnvalue) : null,
      cancelRequested: cancel !== null,
    };
  }

  /**
   * The job's output exactly as its task wrote it (stdout and stderr chunks in order, newlines kept),
   * from the runner's output stream. With `follow`, keeps reading until the job has finished.
   */
  async *output(jobId: string, o: { follow?: boolean; signal?: AbortSignal } = {}): AsyncGenerator<OutputChunk> {
    await this.job(jobId);
    const reader = new Redis(this.connection);
    reader.on('error', this.onError);
    try {
      const finished = async () => FINISHED.has(await this.queue.getJobState(jobId));
      yield* readOutput(reader, this.ref, jobId, { ...o, finished });
    } finally {
      reader.disconnect();
    }
  }

  /**
   * The job's log entries (what the runner wrote with job.log: output lines as they ran). With
   * `follow`, keeps polling until the job has finished and every entry was read.
   */
  async *logs(jobId: string, o: LogsOptions = {}): AsyncGenerator<string> {
    await this.job(jobId);
    const pollMs = o.pollMs ?? 200;
    let offset = 0;
    for (;;) {
      if (o.signal?.aborted) return;
      // Read the state BEFORE the entries: a job seen finished here has written all its entries.
      const state = o.follow ? await this.queue.getJobState(jobId) : 'completed';
      for (;;) {
        const { logs } = await this.queue.getJobLogs(jobId, offset, offset + 499, true);
        for (const line of logs) yield line;
        offset += logs.length;
        if (logs.length < 500) break;
      }
      if (FINISHED.has(state)) return;
      try {
        await sleep(pollMs, undefined, o.signal ? { signal: o.signal } : {});
      } catch {
        return;
      }
    }
  }

  /**
   * Asks the runner to cancel the job (see cancel.ts): a running job's container is stopped and the job
   * completes with reason 'cancelled'; a job not yet started completes as 'cancelled' when picked up.
   */
  async cancel(jobId: string, reason = 'cancelled by client'): Promise<CancelOutcome> {
    const job = await this.job(jobId);
    const state = await job.getState();
    if (state === 'completed' || state === 'failed') return { jobId, state, requested: false, delivered: 0 };
    const delivered = await requestCancel(await this.conn(), this.ref, jobId, reason);
    return { jobId, state, requested: true, delivered };
  }

  /**
   * Migrates a running job (docs/migration.md): its node checkpoints it into the shared store and
   * hands it back to the queue; any node, or only `to`, restores it. Resolves once it is back in the queue.
   */
  async migrate(jobId: string, o: { to?: string } & ControlTimeouts = {}): Promise<MigrateResult> {
    return migrateJob(this.control, jobId, o);
  }

  /** Number of BullMQ workers (runner nodes' consumers) connected to this queue. */
  async runnerCount(): Promise<number> {
    return this.queue.getWorkersCount();
  }

  /** Closes every connection (and drops the embedded Redis lease when connect() took one). */
  async close(): Promise<void> {
    const events = this.events;
    this.events = null;
    await Promise.allSettled([
      this.queue.close(),
      events?.then((e) => e.close()),
      this.redis?.quit(),
    ]);
    this.redis = null;
    const onClose = this.onClose;
    this.onClose = null;
    await onClose?.();
  }

  private async job(jobId: string): Promise<Job> {
    const job = await Job.fromId(this.queue, jobId);
    if (!job) throw errors.notFound(`no job ${jobId} in queue ${this.queueName}`, { jobId, queue: this.queueName });
    return job;
  }

  private async failure(jobId: string): Promise<StasisError> {
    const job = await this.job(jobId);
    const kept = (job.data as Record<string, unknown> | undefined)?.[FAILED_RESULT_KEY];
    return failedJobError(jobId, job.failedReason ?? '', job.attemptsMade, kept === undefined ? null : toJobResult(kept));
  }

  private envelope(jobId: string, v: unknown): JobResult {
    const r = toJobResult(v);
    if (!r) throw errors.internal(`job ${jobId} completed without a stasis result envelope`, { jobId, returnvalue: v });
    return r;
  }

  private queueEvents(): Promise<QueueEvents> {
    if (!this.events) {
      const ev = new QueueEvents(this.queueName, { connection: this.connection, prefix: this.ref.prefix });
      ev.on('error', this.onError);
      this.events = ev.waitUntilReady().then(() => ev);
    }
    return this.events;
  }

  private async conn(): Promise<Redis> {
    if (!this.redis) {
      this.redis = new Redis(this.connection);
      this.redis.on('error', this.onError);
    }
    return this.redis;
  }
}
