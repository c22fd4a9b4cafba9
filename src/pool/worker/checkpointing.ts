/**
 * Checkpointing inside the thread that owns a task: one checkpoint store per thread and root,
 * periodic leave-running checkpoints (allocate → Task.checkpoint → commit → prune), and preemption
 * (a final checkpoint that ends the task, for migration and drain). Checkpoints of one task never
 * overlap: they run one after another on a chain. A failed periodic checkpoint is reported on the
 * port and the task keeps running.
 */
import type { MessagePort } from 'node:worker_threads';
import { openFsCheckpointStore, type FsCheckpointStore } from '../../checkpoint/fs-store.js';
import { LivePageDigests } from '../../checkpoint/live-digest.js';
import { toErrorData } from '../../errors.js';
import { failpoint } from '../../os/failpoint.js';
import type { Task } from '../../runtime/task.js';
import type { CheckpointSettings, RuntimeSettings, TaskCheckpoint } from '../protocol.js';
import { send } from './port.js';

const stores = new Map<string, Promise<FsCheckpointStore>>();

/** The thread's store for a root directory (opened once). */
export function storeFor(dir: string, nodeId: string, rt: Pick<RuntimeSettings, 'criu' | 'runc'>): Promise<FsCheckpointStore> {
  const key = JSON.stringify([dir, nodeId, rt.criu, rt.runc]);
  const known = stores.get(key);
  if (known) return known;
  const s = openFsCheckpointStore({ root: dir, nodeId, criu: rt.criu, runc: rt.runc });
  s.catch(() => stores.delete(key));
  stores.set(key, s);
  return s;
}

/**
 * Takes one checkpoint of `task` into the store and prunes old ones; the pending dir is aborted on
 * failure. What fails after the checkpoint itself (an abort, a prune) goes to `warn`: it leaves disk
 * behind, not a broken checkpoint.
 */
export async function checkpointIntoStore(
  task: Task,
  c: CheckpointSettings,
  rt: Pick<RuntimeSettings, 'criu' | 'runc'>,
  reason: string,
  leaveRunning: boolean,
  warn: (message: string, e: unknown) => void = () => undefined,
): Promise<TaskCheckpoint> {
  const store = await storeFor(c.dir, c.nodeId, rt);
  const ns = { namespace: task.namespace() };
  const pending = await store.allocate(c.storeJobId, ns);
  const t0 = performance.now();
  // The page files are hashed while CRIU writes them, so commit() does not read the memory again.
  const live = new LivePageDigests(pending.path);
  try {
    await task.checkpoint(pending.path, { leaveRunning });
    failpoint('checkpoint:dumped');
  } catch (e) {
    await live.close();
    await store.abort(pending).catch((err: unknown) => warn(`could not remove the failed checkpoint ${pending.path}`, err));
    throw e;
  }
  const digests = await live.finish();
  const ck = await store.commit(pending, {
    digests,
    labels: { ...c.labels, reason },
    ...(c.rootfsDigest ? { rootfs: { path: task.info.spec.root?.path ?? 'rootfs', digest: c.rootfsDigest } } : {}),
  });
  const durationMs = Math.round(performance.now() - t0);
  await store.prune(c.storeJobId, c.keep, ns).catch((err: unknown) => warn(`could not prune old checkpoints of ${ns.namespace}/${c.storeJobId} (they stay in the store)`, err));
  return {
    seq: ck.seq,
    path: ck.path,
    at: ck.manifest.createdAt,
    nodeId: c.nodeId,
    reason,
    namespace: ck.namespace,
    storeJobId: ck.jobId,
    durationMs,
    bytes: ck.manifest.totalBytes,
  };
}

/** Periodic and final checkpoints of one supervised task. */
export class Checkpointer {
  /** Every checkpoint committed during this supervision, oldest first. */
  readonly taken: TaskCheckpoint[] = [];
  /** The checkpoint that ended the task (migrate/drain), if any. */
  preempted: TaskCheckpoint | undefined;
  private chain: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly task: Task,
    private readonly c: CheckpointSettings,
    private readonly rt: Pick<RuntimeSettings, 'criu' | 'runc'>,
    private readonly port: MessagePort,
  ) {}

  /** Starts periodic checkpoints when the settings ask for them (not once closed: the task is stopping). */
  start(): void {
    const every = this.c.everySeconds;
    if (!every || this.closed) return;
    this.timer = setInterval(() => {
      if (this.closed || this.preempted) return;
      void this.enqueue('periodic', true).catch(() => undefined);
    }, every * 1000);
  }

  /** Checkpoints the task without leaving it running; reports failure (with requestId) on the port. */
  preempt(reason: 'migrate' | 'drain', requestId: string): void {
    if (this.closed) {
      send(this.port, {
        type: 'checkpoint-failed',
        reason,
        requestId,
        error: toErrorData(new Error('the task is already stopping')),
      });
      return;
    }
    void this.enqueue(reason, false, requestId).catch(() => undefined);
  }

  /** Stops the timer (the task stopped or is stopping); in-flight checkpoints finish. */
  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Resolves once no checkpoint is in flight. */
  async settle(): Promise<void> {
    await this.chain.catch(() => undefined);
  }

  private enqueue(reason: string, leaveRunning: boolean, requestId?: string): Promise<unknown> {
    const next = this.chain.then(async () => {
      if (this.preempted) throw new Error('the task was already checkpointed for a move');
      try {
        const warn = (message: string, e: unknown) => send(this.port, { type: 'warning', message, error: toErrorData(e) });
        const ck = await checkpointIntoStore(this.task, this.c, this.rt, reason, leaveRunning, warn);
        this.taken.push(ck);
        if (!leaveRunning) this.preempted = ck;
        send(this.port, { type: 'checkpoint', checkpoint: ck });
      } catch (e) {
        send(this.port, { type: 'checkpoint-failed', reason, error: toErrorData(e), ...(requestId ? { requestId } : {}) });
        throw e;
      }
    });
    this.chain = next.catch(() => undefined);
    return next;
  }
}
