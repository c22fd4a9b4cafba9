/** The check a node runs before restoring a stored checkpoint: compatible first (cheap), then intact. */
import { assertCompatible, type CompatOptions } from './compat.js';
import type { HostInfo } from './manifest.js';
import type { CheckpointRef, CheckpointStore, StoredCheckpoint } from './store.js';

/**
 * Returns the checkpoint when `host` can restore it and every file matches its digest; otherwise
 * throws ERR_CHECKPOINT saying why (incompatible host, or which files are tampered/missing/extra).
 */
export async function checkRestorable(
  store: CheckpointStore,
  ref: CheckpointRef,
  host: HostInfo,
  o: CompatOptions = {},
): Promise<StoredCheckpoint> {
  const c = await store.get(ref.jobId, ref.seq, ref);
  assertCompatible(c.manifest, host, o);
  return store.verify(ref);
}

/**
 * checkRestorable in two halves, for a restore that prepares meanwhile: the checkpoint, once `host`
 * can restore it (cheap, now), and its digests' verification (running; rejects like verify()).
 */
export async function startRestorable(
  store: CheckpointStore,
  ref: CheckpointRef,
  host: HostInfo,
  o: CompatOptions = {},
): Promise<{ checkpoint: StoredCheckpoint; verified: Promise<void> }> {
  const c = await store.get(ref.jobId, ref.seq, ref);
  assertCompatible(c.manifest, host, o);
  const verified = store.verify(ref).then(() => undefined);
  verified.catch(() => undefined); // the caller awaits it; this only keeps an early exit from going unhandled
  return { checkpoint: c, verified };
}
