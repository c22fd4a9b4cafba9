/**
 * The lifecycle events of a runner node, as plain data: one per step of a job's life on this node
 * (taken, started, exited, checkpointed, migrated, handed back, posted) and per step of the node's
 * own life (recovered, drained). The queue and the node emit them through a NodeEventSink; metrics
 * (src/metrics) and structured logs (src/log) read them. Emitting one is a function call: nothing
 * here does I/O.
 */

/** What every job event names: the job, the task of this attempt and the job's namespace. */
export interface JobRef {
  jobId: string;
  taskId: string;
  namespace: string;
}

/** Why a job left this node without a result (back to the queue, or to another node). */
export type HandBackReason =
  /** The lineage claim refused it (reserved for another node, an incompatible checkpoint, no store). */
  | 'refused'
  /** A drain with policy `requeue`: the job starts over elsewhere. */
  | 'requeue'
  /** A drain's timeout or second signal killed it: it resumes from its last checkpoint, or starts over. */
  | 'abandon'
  /** Its monitor died without recording an exit: it starts over. */
  | 'lost'
  /** A crash cut its final checkpoint short: it resumes from the last committed one. */
  | 'crash';

/** A job this node took: from BullMQ's processor, or adopted (re-attached after a restart, handed over). */
export interface TakenEvent extends JobRef {
  event: 'taken';
  attempt: number;
  adopted: boolean;
  /** Added (or its delay ended) → taken; only on the job's first take (a retried or handed-back job has no honest start). */
  queueWaitMs?: number;
}

/** The job's task runs (created and started, restored, or re-attached after a restart). */
export interface StartedEvent extends JobRef {
  event: 'started';
  attached: boolean;
  restored: boolean;
  /** Taken → started (create or restore included); not for re-attached tasks. */
  startLatencyMs?: number;
  /** How long the restore itself took (verification, CRIU restore) in the task's thread. */
  restoreMs?: number;
  /** A migrated or drained job: its process froze on the old node at the dump's start, and runs again now. */
  downtimeMs?: number;
  /** Whether the task adopted a prepared sandbox: a ready one ('hit'), one it waited for ('waited'), or none ('miss'). */
  warm?: 'hit' | 'waited' | 'miss';
}

/** The job's task ended. */
export interface ExitedEvent extends JobRef {
  event: 'exited';
  /** The envelope's reason (exited, oom, timeout, cpu-time, cancelled, failed-to-start, lost, preempted). */
  reason: string;
  exitStatus: number | null;
  signal: string | null;
  /** Wall time of the run (startedAt → exitedAt). */
  runMs: number;
  cpuMs: number;
  peakMemoryBytes: number;
}

/** BullMQ moved the job to completed or failed with this node's result. */
export interface PostedEvent extends JobRef {
  event: 'posted';
  state: 'completed' | 'failed';
  /** The envelope's reason, or `error` for a job that failed without one (a refused payload, a create that failed). */
  reason: string;
  /** Taken → posted, as BullMQ recorded the take and the finish. */
  totalMs?: number;
  /** A failed job's reason, as BullMQ stores it. */
  error?: string;
}

/** A checkpoint of the job's task was committed to the store. */
export interface CheckpointedEvent extends JobRef {
  event: 'checkpointed';
  /** periodic, migrate or drain. */
  reason: string;
  seq: number;
  /** Dump and commit, in the task's thread. */
  durationMs?: number;
  /** The checkpoint's size in the store. */
  bytes?: number;
}

/** A migrate or drain checkpoint ended the task here: the job went to node `to`, or back to the queue. */
export interface MigratedEvent extends JobRef {
  event: 'migrated';
  reason: 'migrate' | 'drain';
  seq: number;
  to: string | null;
}

/** The job went back to the queue from this node without a result and without a final checkpoint. */
export interface HandedBackEvent extends JobRef {
  event: 'handed-back';
  reason: HandBackReason;
  detail?: string;
}

/** The node's start: what it found of its previous tasks. */
export interface RecoveredEvent {
  event: 'recovered';
  adopted: string[];
  orphaned: string[];
  discarded: string[];
  durationMs: number;
}

/** A drain finished (SIGTERM with a checkpoint store). */
export interface DrainedEvent {
  event: 'drained';
  checkpointed: string[];
  requeued: string[];
  waited: string[];
  failed: { jobId: string; error: string }[];
  killed: string[];
  durationMs: number;
}

/** Every lifecycle event of a node. */
export type NodeEvent = TakenEvent | StartedEvent | ExitedEvent | PostedEvent | CheckpointedEvent | MigratedEvent | HandedBackEvent | RecoveredEvent | DrainedEvent;

/** The names of the events, in a job's order. */
export type NodeEventName = NodeEvent['event'];

/** Receives a node's events; must not throw and must not block (it runs on the job's path). */
export type NodeEventSink = (e: NodeEvent) => void;

/** A sink that drops everything. */
export const noEvents: NodeEventSink = () => undefined;

/**
 * One sink that hands each event to all of `sinks`. A sink that throws does not stop the others nor
 * the job: its error goes to `onError`.
 */
export function fanOut(sinks: NodeEventSink[], onError: (e: unknown) => void): NodeEventSink {
  return (e) => {
    for (const s of sinks) {
      try {
        s(e);
      } catch (err) {
        onError(err);
      }
    }
  };
}
