/**
 * A run that restores a stored checkpoint instead of creating a fresh process: the checkpoint is
 * checked (compatible with this host, every file matching its digest; startRestorable) and restored
 * under the run's own task id onto its own overlay, the digests verified while the overlay is made.
 * An incompatible image, or one whose files CRIU parses are tampered with, is refused with
 * ERR_CHECKPOINT (details.refused = true) before CRIU reads it; tampered page contents (hashed once
 * CRIU has restored them) are refused the same way before the restored task is handed back, and
 * the task is killed and removed.
 */
import { startRestorable } from '../../checkpoint/restorable.js';
import { readHostInfo } from '../../checkpoint/host-info.js';
import type { HostInfo } from '../../checkpoint/manifest.js';
import { hasCode, StasisError } from '../../errors.js';
import type { Task, TaskManager } from '../../runtime/task.js';
import type { RunSpec, RuntimeSettings } from '../protocol.js';
import { storeFor } from './checkpointing.js';

let host: Promise<HostInfo> | null = null;

/** This host's versions and CPU (read once per thread). */
export function hostInfo(rt: Pick<RuntimeSettings, 'criu' | 'runc'>): Promise<HostInfo> {
  host ??= readHostInfo({ criu: rt.criu, runc: rt.runc });
  host.catch(() => (host = null));
  return host;
}

/**
 * Restores `spec.restore` as task `spec.taskId`. Compatibility is checked first; the digests are
 * verified while the restore lays out the task dir and mounts: CRIU parses no image before those
 * matched (RestoreTaskOptions.gate), and the task is not returned before the page contents, hashed
 * once it runs, did too (RestoreTaskOptions.release).
 */
export async function restoreForRun(mgr: TaskManager, spec: RunSpec, rt: RuntimeSettings, nodeId: string, timeoutSeconds?: number): Promise<Task> {
  const r = spec.restore;
  if (!r) throw new Error('restoreForRun needs spec.restore');
  const store = await storeFor(r.dir, nodeId, rt);
  const ref = { jobId: r.storeJobId, seq: r.seq, namespace: r.namespace };
  const refused = (e: unknown): unknown => {
    if (!hasCode(e)) return e;
    const err = e as StasisError;
    return new StasisError(
      err.code === 'ERR_NOT_FOUND' ? 'ERR_CHECKPOINT' : err.code,
      `refusing to restore checkpoint ${r.namespace}/${r.storeJobId}#${r.seq}: ${err.message}`,
      { ...err.details, refused: true, path: store.checkpointDir(ref) },
      { cause: e },
    );
  };
  const { checkpoint, parsed, verified } = await startRestorable(store, ref, await hostInfo(rt)).catch((e: unknown) => {
    throw refused(e);
  });
  const gate = parsed.catch((e: unknown) => Promise.reject(refused(e)));
  // restore() awaits it; a restore refused earlier never does.
  gate.catch(() => undefined);
  // The page contents are hashed once the restored task runs (startRestorable).
  const release = (): Promise<void> => verified().catch((e: unknown) => Promise.reject(refused(e)));
  return mgr.restore({
    id: spec.taskId,
    namespace: spec.namespace,
    from: checkpoint.path,
    rootfs: spec.rootfs,
    ...(spec.rootfsMapped ? { rootfsMapped: true } : {}),
    annotations: spec.annotations,
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
    gate,
    release,
  });
}
