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
 * contents: gate CRIU on it); and `verified`, the whole verification (the page contents are hashed
 * beside the first part and CRIU's restore: hold the restored task until it resolves). Both reject
 * like verify().
 */
export async function startRestorable(
  store: CheckpointStore,
  ref: CheckpointRef,
  host: HostInfo,
  o: CompatOptions = {},
): Promise<{ checkpoint: StoredCheckpoint; parsed: Promise<void>; verified: Promise<void> }> {
  const c = await store.get(ref.jobId, ref.seq, ref);
  assertCompatible(c.manifest, host, o);
  const parsed = store.verify(ref, { only: (f) => !isPageFile(f), checkpoint: c }).then(() => undefined);
  const pages = store.verify(ref, { only: isPageFile, checkpoint: c }).then(() => undefined);
  const verified = Promise.all([parsed, pages]).then(() => undefined);
  // The caller awaits them; this only keeps an early exit from going unhandled.
  for (const p of [parsed, pages, verified]) p.catch(() => undefined);
  return { checkpoint: c, parsed, verified };
}
