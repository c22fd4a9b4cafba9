/**
 * A run that restores a stored checkpoint instead of creating a fresh process: the checkpoint is
 * checked first (compatible with this host, every file matching its digest; checkRestorable), then
 * restored under the run's own task id onto its own overlay. A tampered or incompatible image is
 * refused with ERR_CHECKPOINT (details.refused = true) before anything is launched.
 */
import { checkRestorable } from '../../checkpoint/restorable.js';
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

/** Verifies `spec.restore` and restores it as task `spec.taskId`. */
export async function restoreForRun(mgr: TaskManager, spec: RunSpec, rt: RuntimeSettings, nodeId: string, timeoutSeconds?: number): Promise<Task> {
  const r = spec.restore;
  if (!r) throw new Error('restoreForRun needs spec.restore');
  const store = await storeFor(r.dir, nodeId, rt);
  let ck;
  try {
    ck = await checkRestorable(store, { jobId: r.storeJobId, seq: r.seq, namespace: r.namespace }, await hostInfo(rt));
  } catch (e) {
    if (!hasCode(e)) throw e;
    const err = e as StasisError;
    throw new StasisError(
      err.code === 'ERR_NOT_FOUND' ? 'ERR_CHECKPOINT' : err.code,
      `refusing to restore checkpoint ${r.namespace}/${r.storeJobId}#${r.seq}: ${err.message}`,
      { ...err.details, refused: true, path: store.checkpointDir({ jobId: r.storeJobId, seq: r.seq, namespace: r.namespace }) },
      { cause: e },
    );
  }
  return mgr.restore({
    id: spec.taskId,
    namespace: spec.namespace,
    from: ck.path,
    rootfs: spec.rootfs,
    ...(spec.rootfsMapped ? { rootfsMapped: true } : {}),
    annotations: spec.annotations,
    ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
  });
}
