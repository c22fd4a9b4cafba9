/** The check a node runs before restoring a stored checkpoint: compatible first (cheap), then intact. */
import { assertCompatible, type CompatOptions } from './compat.js';
import { isPageFile } from './live-digest.js';
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
 * checkRestorable in parts, for a restore that prepares meanwhile: the checkpoint, once `host` can
 * restore it (cheap, now); `parsed`, the verification of every file CRIU parses (all but the page
 * contents: gate CRIU on it); and `verified`, which starts the page contents' verification when
 * called and resolves once the whole checkpoint is verified (call it once the restored task runs,
 * and hold the task until it resolves). Hashed beside CRIU's restore, the pages took CPU CRIU
 * needed: ~100–200 ms of a 256 MiB move's downtime on 2 cores (docs/bench.md). Both reject like
 * verify().
 */
export async function startRestorable(
  store: CheckpointStore,
  ref: CheckpointRef,
  host: HostInfo,
  o: CompatOptions = {},
): Promise<{ checkpoint: StoredCheckpoint; parsed: Promise<void>; verified: () => Promise<void> }> {
  const c = await store.get(ref.jobId, ref.seq, ref);
  assertCompatible(c.manifest, host, o);
  const parsed = store.verify(ref, { only: (f) => !isPageFile(f), checkpoint: c }).then(() => undefined);
  // The caller awaits it; this only keeps an early exit from going unhandled.
  parsed.catch(() => undefined);
  let whole: Promise<void> | undefined;
  const verified = (): Promise<void> => {
    whole ??= Promise.all([parsed, store.verify(ref, { only: isPageFile, checkpoint: c })]).then(() => undefined);
    return whole;
  };
  return { checkpoint: c, parsed, verified };
}
