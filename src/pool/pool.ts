/**
 * The main-thread side of the task pool: a few Piscina worker threads, each owning many tasks at
 * once. A run/attach gets a MessageChannel whose far end travels with the request; events come back
 * on it and stop requests go out on it. Requests are never aborted through Piscina.
 */
import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { errors, fromErrorData } from '../errors.js';
import type {
  LifecycleOptions,
  PoolRequest,
  PoolResponse,
  RunSpec,
  RuntimeSettings,
  ScanResult,
  StopReason,
  TaskEvent,
  TaskOutcome,
} from './protocol.js';
import type { TaskCall } from './control-verbs.js';
import { ControlCalls } from './control-calls.js';

/** Walks up from this module to the directory whose package.json is stasis'. */
export function repoRoot(from = path.dirname(fileURLToPath(import.meta.url))): string {
  let dir = from;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if ((JSON.parse(fs.readFileSync(pkg, 'utf8')) as { name?: string }).name === 'stasis') return dir;
      } catch {
        // keep walking
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw errors.internal(`cannot find the stasis package root above ${from}`);
    dir = up;
  }
}

/** The compiled worker entry (run `npm run build` first when running from src/ under vitest). */
export function workerFile(): string {
  const f = path.join(repoRoot(), 'dist', 'workers', 'task-worker-entry.cjs');
  if (!fs.existsSync(f)) throw errors.failedPrecondition(`task worker ${f} is missing; run \`npm run build\``);
  return f;
}

/** Options of TaskPool. */
export interface TaskPoolOptions {
  runtime: RuntimeSettings;
  threads: number;
  /** Tasks at once per thread (>= ceil(node concurrency / threads)). */
  tasksPerThread: number;
  filename?: string;
  /** A container whose thread died and that could not be killed (it runs on unsupervised until the next start). */
  onError?: (e: unknown) => void;
}

/** A task owned by a worker thread: its events, a way to stop it, and its outcome. */
export interface TaskHandle {
  /** Asks the owning thread to stop the task (TERM, grace, KILL; KILL at once for lock-lost). */
  stop(reason: StopReason, graceMs: number): void;
  /** Resolves with the outcome as soon as it is known (the task may still be being deleted). */
  outcome: Promise<TaskOutcome>;
  /** Resolves with the outcome once the task stopped and was deleted; rejects with a StasisError. */
  done: Promise<TaskOutcome>;
  /**
   * Sends a control call to the owning thread and resolves to its answer (TaskCallResults[verb]).
   * ERR_FAILED_PRECONDITION before the task started or after it ended; ERR_UNAVAILABLE when the
   * thread does not answer within `timeoutMs`.
   */
  control(call: TaskCall, timeoutMs: number): Promise<unknown>;
  /** Asks the owning thread to checkpoint the task into the store and end it (migrate/drain). */
  preempt(reason: 'migrate' | 'drain', requestId: string): void;
  /**
   * Lets the thread delete the stopped task: its result is posted (or will never be from here). Until
   * then the task stays on disk with its exit, so a node that dies before posting posts after a restart.
   */
  release(): void;
}

/** How long a graceful close waits for running requests before it stops the threads anyway. */
const CLOSE_WAIT_MS = 30_000;

/** The main thread's handle on the worker threads. */
export class TaskPool {
  private readonly piscina: Piscina<PoolRequest, PoolResponse<unknown>>;
  private destroyed = false;
  /** Requests the threads work on now (close waits for them). */
  private readonly inflight = new Set<Promise<unknown>>();
  constructor(private readonly o: TaskPoolOptions) {
    this.piscina = new Piscina({
      filename: o.filename ?? workerFile(),
      minThreads: o.threads,
      maxThreads: o.threads,
      concurrentTasksPerWorker: Math.max(1, o.tasksPerThread),
      // The threads run long async lifecycles; a blocking Atomics.wait between tasks would stall them.
      atomics: 'disabled',
      idleTimeout: Number.POSITIVE_INFINITY,
      maxQueue: 'auto',
    });
  }

  /** Starts a new task; `onEvent` sees started/log/stats events. */
  run(spec: RunSpec, options: LifecycleOptions, onEvent: (e: TaskEvent) => void): TaskHandle {
    return this.owned(
      (port) => ({ kind: 'run', requestId: randomUUID(), runtime: this.o.runtime, spec, options, port }),
      onEvent,
      { taskId: spec.taskId, namespace: spec.namespace },
    );
  }

  /** Takes over an existing task after a restart. */
  attach(
    a: { taskId: string; namespace: string; startedAt?: string; timeoutSeconds?: number },
    options: LifecycleOptions,
    onEvent: (e: TaskEvent) => void,
  ): TaskHandle {
    return this.owned((port) => ({ kind: 'attach', requestId: randomUUID(), runtime: this.o.runtime, ...a, options, port }), onEvent, a);
  }

  /** Recovers the state dir and lists every task. */
  async scan(): Promise<ScanResult> {
    return this.call<ScanResult>({ kind: 'scan', requestId: randomUUID(), runtime: this.o.runtime });
  }

  /** Kills and deletes a task nobody owns; false when it did not exist. */
  async discard(taskId: string, namespace: string): Promise<boolean> {
    return this.call<boolean>({ kind: 'discard', requestId: randomUUID(), runtime: this.o.runtime, taskId, namespace });
  }

  /**
   * Waits for running requests (at most CLOSE_WAIT_MS), then stops the threads. The wait is ours:
   * Piscina's own close may count a thread that finished a task twice and end while another thread
   * still deletes a task, leaving it on disk.
   */
  async close(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.inflight]), new Promise((r) => (timer = setTimeout(r, CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
    await this.piscina.close();
  }

  /** Stops the threads now (tasks keep running under their monitors; a restart re-attaches). */
  async destroy(): Promise<void> {
    this.destroyed = true;
    await this.piscina.destroy();
  }

  private async call<T>(req: PoolRequest, transferList?: MessagePort[], onThreadFailure?: () => Promise<void>): Promise<T> {
    let res: PoolResponse<T>;
    try {
      const running = this.piscina.run(req, transferList ? { transferList } : {});
      this.inflight.add(running);
      void running.then(
        () => this.inflight.delete(running),
        () => this.inflight.delete(running),
      );
      res = (await running) as PoolResponse<T>;
    } catch (e) {
      // Handlers answer errors as data; a rejection here means the thread itself failed.
      if (onThreadFailure && !this.destroyed) await onThreadFailure();
      throw errors.internal(`task worker thread failed: ${e instanceof Error ? e.message : String(e)}`, { kind: req.kind });
    }
    if (!res.ok) throw fromErrorData(res.error);
    return res.value;
  }

  private owned(
    make: (port: MessagePort) => PoolRequest,
    onEvent: (e: TaskEvent) => void,
    task: { taskId: string; namespace: string },
  ): TaskHandle {
    const { port1, port2 } = new MessageChannel();
    let early: ((o: TaskOutcome) => void) | undefined;
    const outcomeSeen = new Promise<TaskOutcome>((resolve) => (early = resolve));
    const calls = new ControlCalls(port1, task.taskId);
    port1.on('message', (e: TaskEvent) => {
      if (e.type === 'outcome') early?.(e.outcome);
      else if (e.type === 'control-result') calls.answer(e.requestId, e.response);
      else {
        if (e.type === 'started') calls.started();
        onEvent(e);
      }
    });
    const done = this.call<TaskOutcome>(make(port2), [port2], async () => {
      // The owning thread died: nobody supervises the container any more. Kill it, so a retry of
      // the job can never run next to it.
      await this.discard(task.taskId, task.namespace).catch((e: unknown) => this.o.onError?.(e));
    }).finally(() => calls.end(() => port1.close()));
    const outcome = Promise.race([outcomeSeen, done]);
    return {
      outcome,
      stop: (reason, graceMs) => {
        try {
          port1.postMessage({ type: 'stop', reason, graceMs });
        } catch {
          // already finished
        }
      },
      done,
      control: (call, timeoutMs) => calls.call(call, timeoutMs),
      preempt: (reason, requestId) => {
        try {
          port1.postMessage({ type: 'preempt', reason, requestId });
        } catch {
          // already finished
        }
      },
      release: () => {
        try {
          port1.postMessage({ type: 'release' });
        } catch {
          // already finished
        }
      },
    };
  }
}
