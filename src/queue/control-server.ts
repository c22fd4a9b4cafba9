/**
 * The node side of job control: subscribes to the node's control channel, acks each request at once,
 * routes it to the verb's handler and pushes the result (or the error, as ErrorData) onto the
 * request's reply list. Built-in verbs go to the worker thread that owns the job's task over its
 * MessagePort (TaskHandle.control); 'checkpoint' also allocates and commits the image in the
 * checkpoint store.
 *
 * Extension point (e.g. 'migrate'): `server.register(verb, { args: zodSchema, run })`. `run` gets the
 * validated arguments and a ControlContext: the job's ActiveJob (ERR_FAILED_PRECONDITION when it does
 * not run here), the time left before the caller gives up, and `checkpoint()` for a stored image.
 */
import path from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import type { z } from 'zod';
import { openFsCheckpointStore, type FsCheckpointStore } from '../checkpoint/fs-store.js';
import { errors, toErrorData } from '../errors.js';
import { TaskCallSchema, type TaskCall, type TaskVerb } from '../pool/control-verbs.js';
import type { CheckpointResult } from '../runtime/task.js';
import { DEFAULT_PREFIX, type QueueRef } from './cancel.js';
import {
  CheckpointRequestArgsSchema,
  REPLY_TTL_MS,
  controlChannel,
  formatArgIssues,
  parseControlRequest,
  type ControlCheckpointResult,
  type ControlReply,
  type ControlRequest,
} from './control.js';
import type { ActiveJob } from './attempt.js';
import { storeJobIdFor } from './checkpoint-flow.js';

/** What a verb handler may use. */
export interface ControlContext {
  nodeId: string;
  /** The job's attempt running on this node; ERR_FAILED_PRECONDITION when there is none. */
  job(jobId: string): ActiveJob;
  /** Ms left before the caller stops listening. */
  timeLeft(): number;
  /** Checkpoints the job's task (into `image`, else into the checkpoint store) and commits it. */
  checkpoint(jobId: string, args: z.infer<typeof CheckpointRequestArgsSchema>, labels?: Record<string, string>): Promise<ControlCheckpointResult>;
}

/** A verb the node answers. */
export interface VerbHandler<S extends z.ZodTypeAny = z.ZodTypeAny> {
  args: S;
  run(req: { jobId: string; requestId: string; args: z.infer<S> }, ctx: ControlContext): Promise<unknown>;
}

/** Options of ControlServer. */
export interface ControlServerOptions {
  connection: RedisOptions;
  queue: QueueRef;
  nodeId: string;
  /** The job's attempt on this node (JobConsumer.activeJob). */
  jobs(jobId: string): ActiveJob | undefined;
  /** Root of the checkpoint store (RunnerConfig.checkpointDir, else <stateDir>/checkpoints). */
  checkpointDir: string;
  runc?: string;
  criu?: string;
  onError?: (e: unknown) => void;
}

function threadVerb<V extends TaskVerb>(verb: V): VerbHandler {
  const option = TaskCallSchema.options.find((o) => o.shape.verb.value === verb)!;
  return {
    args: option.shape.args,
    run: (req, ctx) => ctx.job(req.jobId).control({ verb, args: req.args } as TaskCall, ctx.timeLeft()),
  };
}

/** A runner node's control endpoint. */
export class ControlServer {
  private readonly handlers = new Map<string, VerbHandler>();
  private readonly subscriber: Redis;
  private readonly commands: Redis;
  private store: Promise<FsCheckpointStore> | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(private readonly o: ControlServerOptions) {
    this.subscriber = new Redis({ ...o.connection, maxRetriesPerRequest: null });
    this.commands = new Redis({ ...o.connection, maxRetriesPerRequest: null });
    for (const e of [this.subscriber, this.commands]) e.on('error', (err) => o.onError?.(err));
    for (const v of ['pause', 'resume', 'kill', 'exec', 'ps', 'stats', 'update', 'resize'] as const) this.register(v, threadVerb(v));
    this.register('checkpoint', {
      args: CheckpointRequestArgsSchema,
      run: async (req, ctx) => {
        if (!req.args.leaveRunning) {
          throw errors.failedPrecondition(
            `checkpointing job ${req.jobId} without leaving it running would stop it; use \`stasis job migrate ${req.jobId}\` to move a job, or --leave-running`,
            { jobId: req.jobId },
          );
        }
        if (await this.checkpointForbidden(req.jobId)) {
          throw errors.failedPrecondition(`job ${req.jobId} does not allow checkpoints (its payload has checkpoint.allow: false)`, { jobId: req.jobId });
        }
        return ctx.checkpoint(req.jobId, req.args, { reason: 'control' });
      },
    });
  }

  /** The channel this node listens on. */
  get channel(): string {
    return controlChannel(this.o.queue, this.o.nodeId);
  }

  /** Adds (or replaces) the handler of `verb`. */
  register<S extends z.ZodTypeAny>(verb: string, handler: VerbHandler<S>): void {
    this.handlers.set(verb, handler as unknown as VerbHandler);
  }

  /** Subscribes to the node's channel; resolves once requests can arrive. */
  async start(): Promise<void> {
    this.subscriber.on('message', (ch: string, message: string) => {
      if (ch !== this.channel || this.closed) return;
      const p = this.serve(message).catch((e: unknown) => this.o.onError?.(e));
      this.inFlight.add(p);
      void p.finally(() => this.inFlight.delete(p));
    });
    await this.subscriber.subscribe(this.channel);
  }

  /** Stops listening, lets requests in flight answer (up to `graceMs`), closes the connections. */
  async close(graceMs = 5_000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.subscriber.unsubscribe(this.channel).catch(() => undefined);
    this.subscriber.disconnect();
    const all = Promise.allSettled([...this.inFlight]);
    await Promise.race([all, new Promise((r) => setTimeout(r, graceMs).unref())]);
    this.commands.disconnect();
  }

  /** True when the job's payload says `checkpoint: { allow: false }` (read from BullMQ's job hash). */
  private async checkpointForbidden(jobId: string): Promise<boolean> {
    const raw = await this.commands.hget(`${this.o.queue.prefix ?? DEFAULT_PREFIX}:${this.o.queue.queue}:${jobId}`, 'data');
    try {
      const data = JSON.parse(raw ?? '{}') as { checkpoint?: { allow?: unknown } };
      return data?.checkpoint?.allow === false;
    } catch {
      return false;
    }
  }

  private async reply(req: ControlRequest, r: ControlReply): Promise<void> {
    await this.commands.multi().rpush(req.replyTo, JSON.stringify(r)).pexpire(req.replyTo, REPLY_TTL_MS).exec();
  }

  private async serve(raw: string): Promise<void> {
    const req = parseControlRequest(raw);
    if (!req) return this.o.onError?.(errors.invalidArgument(`ignored a malformed control request: ${raw.slice(0, 200)}`));
    if (Date.now() > req.deadline) return; // the caller has given up already
    const nodeId = this.o.nodeId;
    await this.reply(req, { kind: 'ack', requestId: req.requestId, nodeId });
    let r: ControlReply;
    try {
      r = { kind: 'result', requestId: req.requestId, nodeId, ok: true, value: await this.dispatch(req) };
    } catch (e) {
      const error = toErrorData(e);
      delete error.stack;
      r = { kind: 'result', requestId: req.requestId, nodeId, ok: false, error };
    }
    await this.reply(req, r);
  }

  private dispatch(req: ControlRequest): Promise<unknown> {
    const h = this.handlers.get(req.verb);
    if (!h) {
      throw errors.invalidArgument(`unknown control verb '${req.verb}' (this node knows: ${[...this.handlers.keys()].join(', ')})`, { field: 'verb' });
    }
    const args = h.args.safeParse(req.args);
    if (!args.success) throw errors.invalidArgument(`invalid arguments of '${req.verb}': ${formatArgIssues(args.error)}`, { field: 'args' });
    return h.run({ jobId: req.jobId, requestId: req.requestId, args: args.data }, this.context(req));
  }

  private context(req: ControlRequest): ControlContext {
    const nodeId = this.o.nodeId;
    const job = (jobId: string): ActiveJob => {
      const a = this.o.jobs(jobId);
      if (!a) throw errors.failedPrecondition(`job ${jobId} is not running on node ${nodeId} (it finished, or moved to another node)`, { jobId, nodeId });
      return a;
    };
    const timeLeft = () => Math.max(1, req.deadline - Date.now());
    return {
      nodeId,
      job,
      timeLeft,
      checkpoint: (jobId, args, labels) => this.checkpoint(job(jobId), args, timeLeft(), labels ?? {}),
    };
  }

  private async checkpoint(
    a: ActiveJob,
    args: z.infer<typeof CheckpointRequestArgsSchema>,
    timeoutMs: number,
    labels: Record<string, string>,
  ): Promise<ControlCheckpointResult> {
    const { image, ...flags } = args;
    const call = (dir: string) => a.control({ verb: 'checkpoint', args: { ...flags, path: dir } }, timeoutMs) as Promise<CheckpointResult>;
    const base = (r: CheckpointResult) => ({ criuLog: r.criuLog, dumpMs: r.dumpMs, leaveRunning: r.leaveRunning, createdAt: r.createdAt, nodeId: this.o.nodeId });
    if (image) {
      const r = await call(path.resolve(image));
      return { path: r.path, store: null, ...base(r) };
    }
    this.store ??= openFsCheckpointStore({
      root: this.o.checkpointDir,
      nodeId: this.o.nodeId,
      ...(this.o.criu ? { criu: this.o.criu } : {}),
      ...(this.o.runc ? { runc: this.o.runc } : {}),
    });
    const store = await this.store;
    // The same key periodic and migration checkpoints use, so `restoreFrom: { jobId }` finds these too.
    const key = storeJobIdFor(this.o.queue.queue, a.jobId);
    const pending = await store.allocate(key, { namespace: a.namespace });
    let r: CheckpointResult;
    try {
      r = await call(pending.path);
    } catch (e) {
      await store.abort(pending).catch(() => undefined);
      throw e;
    }
    const stored = await store.commit(pending, { taskId: a.taskId, labels: { ...labels, jobId: a.jobId, nodeId: this.o.nodeId } });
    const criuLog = r.criuLog.startsWith(pending.path) ? stored.path + r.criuLog.slice(pending.path.length) : r.criuLog;
    return {
      path: stored.path,
      store: { root: this.o.checkpointDir, namespace: stored.namespace, jobId: stored.jobId, seq: stored.seq },
      ...base(r),
      criuLog,
    };
  }
}
