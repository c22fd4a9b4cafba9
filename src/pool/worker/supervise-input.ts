/** What supervise() is given: the task a worker thread owns, its port, its lifecycle and what arrived before. */
import type { MessagePort } from 'node:worker_threads';
import type { Task } from '../../runtime/task.js';
import type { LifecycleOptions, RuntimeSettings, StopReason } from '../protocol.js';

/** A migrate/drain request (TaskControl 'preempt') not yet carried out. */
export interface PendingPreempt {
  reason: 'migrate' | 'drain';
  requestId: string;
}

/** Inputs of supervise(). */
export interface SuperviseInput {
  task: Task;
  port: MessagePort;
  options: LifecycleOptions;
  startedAt: string;
  /** The task's k8s-file log (runtime layout). */
  logFile: string;
  /** Directory where kept logs go (<stateDir>/logs). */
  logsDir: string;
  /** Only stream log lines written at or after this time (attach after a restart). */
  streamSince?: string;
  /** Stop requests that arrived before supervision began. */
  pendingStop?: StopReason;
  /** A preempt request that arrived before supervision began. */
  pendingPreempt?: PendingPreempt;
  stdin?: string;
  /** Binaries for checkpoints (options.checkpoint); without it the task is never checkpointed. */
  runtime?: Pick<RuntimeSettings, 'criu' | 'runc'>;
}
