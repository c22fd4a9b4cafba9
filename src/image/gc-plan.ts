/**
 * Which images garbage collection removes: least recently used first, never one marked keep (in
 * use, locked, or used within the grace period), until the store fits its target. A blob shared
 * with a kept image is not counted as freed. Pure, so the choice is unit-tested.
 */

/** One image as GC sees it. */
export interface GcCandidate {
  digest: string;
  /** Last use (ms since the epoch). */
  lastUsedMs: number;
  /** Every blob of the image (manifest, config, layers). */
  blobs: string[];
  /** Bytes of its unpacked rootfs directories. */
  rootfsBytes: number;
  /** Never remove it (in use, being pulled, or used within the grace period). */
  keep: boolean;
}

/** What GC decided. */
export interface GcPlan {
  /** Digests to remove, in order. */
  remove: string[];
  /** Store bytes before, and after the removals plus the sweep of unreferenced blobs. */
  beforeBytes: number;
  afterBytes: number;
}

/**
 * Plans removals down to `targetBytes`. `blobSizes` lists every blob on disk; blobs no image
 * references (and not in `protectedBlobs`) are swept anyway and count as freed up front.
 */
export function planGc(o: {
  images: GcCandidate[];
  blobSizes: Map<string, number>;
  targetBytes: number;
  protectedBlobs?: Set<string>;
}): GcPlan {
  const refs = new Map<string, number>();
  for (const img of o.images) for (const b of new Set(img.blobs)) refs.set(b, (refs.get(b) ?? 0) + 1);
  let total = 0;
  for (const [, size] of o.blobSizes) total += size;
  for (const img of o.images) total += img.rootfsBytes;
  const beforeBytes = total;
  for (const [b, size] of o.blobSizes) {
    if (!refs.has(b) && !o.protectedBlobs?.has(b)) total -= size;
  }
  const remove: string[] = [];
  const candidates = o.images.filter((i) => !i.keep).sort((a, b) => a.lastUsedMs - b.lastUsedMs || a.digest.localeCompare(b.digest));
  for (const img of candidates) {
    if (total <= o.targetBytes) break;
    remove.push(img.digest);
    total -= img.rootfsBytes;
    for (const b of new Set(img.blobs)) {
      const n = (refs.get(b) ?? 1) - 1;
      refs.set(b, n);
      if (n === 0 && !o.protectedBlobs?.has(b)) total -= o.blobSizes.get(b) ?? 0;
    }
  }
  return { remove, beforeBytes, afterBytes: total };
}
