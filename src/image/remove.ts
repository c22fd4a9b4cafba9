/**
 * Removing one image from the store, under its lock. Order matters for concurrent ensure() calls,
 * which take no lock when the image is already there: the record is first renamed out of sight
 * (ensure() then finds it gone and waits for the lock), and only then is its last use checked, so an
 * ensure() that touched it just before is seen and the removal is undone. Then the unpacked
 * directories go (renamed into tmp/, then deleted), the layout entry, and the references. The
 * blobs are left to the sweep, which knows which ones other images share.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { StoreContext } from './context.js';
import { readRefRecords, readUnpackDirs } from './inventory.js';
import { removeNamed } from './layout.js';
import { withLock, withLockIfFree } from './lock.js';
import { layoutName, lockFile, metaFile, refFile } from './paths.js';

/** How a removal ended. */
export type RemoveOutcome = 'removed' | 'busy' | 'recently-used' | 'missing';

/**
 * Removes image `digest`: with `wait`, waits for its lock; else skips it ('busy') when another
 * operation holds it. Skips it ('recently-used') when it was used within `minIdleMs`.
 */
export async function removeImage(ctx: StoreContext, digest: string, o: { wait: boolean; minIdleMs: number }): Promise<RemoveOutcome> {
  const file = lockFile.image(ctx.paths, digest);
  const work = () => removeLocked(ctx, digest, o.minIdleMs);
  if (o.wait) return withLock(file, work, { timeoutMs: ctx.lockTimeoutMs, what: `image ${digest}` });
  return (await withLockIfFree(file, work)) ?? 'busy';
}

async function removeLocked(ctx: StoreContext, digest: string, minIdleMs: number): Promise<RemoveOutcome> {
  const p = ctx.paths;
  const meta = metaFile(p, digest);
  const hidden = `${meta}.removing-${randomUUID().slice(0, 8)}`;
  try {
    await fs.rename(meta, hidden);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    await removeLeftovers(ctx, digest);
    return 'missing';
  }
  const st = await fs.stat(hidden);
  if (Date.now() - st.mtimeMs < minIdleMs) {
    await fs.rename(hidden, meta);
    return 'recently-used';
  }
  await removeLeftovers(ctx, digest);
  await fs.rm(hidden, { force: true });
  return 'removed';
}

/** Removes the unpacks, layout entry and references of `digest` (its record already gone). */
async function removeLeftovers(ctx: StoreContext, digest: string): Promise<void> {
  const p = ctx.paths;
  await fs.mkdir(p.tmp, { recursive: true });
  for (const u of await readUnpackDirs(ctx)) {
    if (u.digest !== digest) continue;
    const gone = path.join(p.tmp, `rm-${process.pid}-${randomUUID().slice(0, 8)}`);
    await fs.rename(u.dir, gone).catch(() => undefined);
    await fs.rm(gone, { recursive: true, force: true });
  }
  await withLock(lockFile.layout(p), () => removeNamed(p.layout, new Set([layoutName(digest)])), { timeoutMs: ctx.lockTimeoutMs, what: 'the image layout' });
  for (const r of await readRefRecords(ctx)) {
    if (r.digest === digest) await fs.rm(refFile(p, r.ref), { force: true });
  }
}
