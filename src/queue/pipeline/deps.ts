/** What the stages of a job attempt's pipeline need from their node (one object, passed down). */
import type { JobAttempt } from '../attempt.js';
import type { Redis } from 'ioredis';
import type { NodeEventSink } from '../../events/node-events.js';
import type { IdMapping } from '../../config/schema.js';
import type { RunnerConfig } from '../../config/runner.js';
import type { ImageStore } from '../../image/store.js';
import type { RootfsContext } from '../../policy/rootfs.js';
import type { NodePolicy } from '../../policy/schema.js';
import type { TaskPool } from '../../pool/pool.js';
import type { QueueRef } from '../cancel.js';
import type { CheckpointFlow } from '../checkpoint-flow.js';
import type { OrphanTask } from '../orphans.js';

/** The node as the pipeline sees it. */
export interface PipelineDeps {
  config: RunnerConfig;
  policy: NodePolicy;
  rootfs: RootfsContext;
  userns: IdMapping | null;
  images?: ImageStore;
  /** The node's command connection. */
  redis: Redis;
  ref: QueueRef;
  pool: TaskPool;
  flow: CheckpointFlow;
  onError(e: unknown): void;
  /** Something that failed but does not end the job (a job.log write, a kept log): a warning line, once per outage. */
  warn(e: unknown, fields: Record<string, unknown>): void;
  /** The node's lifecycle events (metrics, logs). */
  events: NodeEventSink;
  /** True while the node drains: a job taken now goes straight back to the queue. */
  draining(): boolean;
  /**
   * Resolves once the node has room for one more task of `a` (jobs run outside BullMQ's processors,
   * re-attached after a restart or handed over, count against its concurrency), or `a` is stopped.
   */
  room?(a: JobAttempt): Promise<void>;
  /** The task this node left running for the job's attempt (restart, outage), taken off the list. */
  takeOrphan(taskId: string): OrphanTask | undefined;
  /** Asks the node `nodeId` to take over the job under `token` (handoff.ts); resolves true when it did. */
  handOff(nodeId: string, jobId: string, token: string, why: 'holder' | 'target'): Promise<boolean>;
}
