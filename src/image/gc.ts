/**
 * Garbage collection of the image store, least recently used first, down to a byte target. Never
 * removes an image that is in use (the caller's inUse(): running tasks, stored checkpoints; plus
 * every rootfs mounted on the node), being pulled or unpacked (its lock is held), or used within
 * `minIdleMs` (covers the gap between ensure() and the task mounting the rootfs). Blobs are swept
 * by walking the manifests the layout's index still names, so a blob shared with a kept image stays;
 * blobs of pulls in progress are protected.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { StoreContext } from './context.js';
import { planGc, type GcCandidate } from './gc-plan.js';
import { readImageRecords, readUnpackDirs } from './inventory.js';
import { findNamed, listBlobs, readIndex, referencedBlobs, removeNamed } from './layout.js';
import { REF_NAME } from './manifest.js';
import { lockHeld, pidAlive, withLock } from './lock.js';
import { readMountedDigests } from './mounts.js';
import { layoutName, lockFile, metaFile } from './paths.js';
import { PULL_MARKER } from './pull.js';
import { removeImage } from './remove.js';

/** Options of one collection. */
export interface GcOptions {
  /** Remove images until the store holds at most this many bytes (0: every image not kept). */
  targetBytes: number;
  /** Digests of images in use (running tasks, stored checkpoints). */
  inUse?: () => Promise<Set<string>>;
  /** Keep images used within this many ms (default 10 minutes). */
  minIdleMs?: number;
}

/** What a collection did. */
export interface GcReport {
  removed: string[];
  /** Images the plan chose that turned out busy or freshly used. */
  skipped: string[];
  blobsRemoved: number;
  beforeBytes: number;
  afterBytes: number;
}

/** Default grace period after a use. */
export const DEFAULT_MIN_IDLE_MS = 10 * 60_000;

/** Runs one collection (one at a time per node). */
export async function collectGarbage(ctx: StoreContext, o: GcOptions): Promise<GcReport> {
  return withLock(path.join(ctx.paths.locks, 'gc.lock'), () => collect(ctx, o), { timeoutMs: ctx.lockTimeoutMs, what: 'image garbage collection' });
}

async function collect(ctx: StoreContext, o: GcOptions): Promise<GcReport> {
  const p = ctx.paths;
  const minIdleMs = o.minIdleMs ?? DEFAULT_MIN_IDLE_MS;
  await sweepTmp(ctx);
  const inUse = new Set([...(o.inUse ? await o.inUse() : []), ...(await readMountedDigests(p.rootfs))]);
  const records = await readImageRecords(ctx);
  const unpacks = await readUnpackDirs(ctx);
  const index = await readIndex(p.layout).catch(() => ({ schemaVersion: 2 as const, manifests: [] }));
  const now = Date.now();
  const images: GcCandidate[] = [];
  for (const { record, lastUsedMs } of records) {
    const entry = findNamed(index, layoutName(record.digest));
    const blobs = entry ? [...(await referencedBlobs(p.blobs, { schemaVersion: 2, manifests: [entry] }))] : [];
    const rootfsBytes = unpacks.filter((u) => u.digest === record.digest).reduce((n, u) => n + (u.info?.sizeBytes ?? 0), 0);
    const keep = inUse.has(record.digest) || now - lastUsedMs < minIdleMs || (await lockHeld(lockFile.image(p, record.digest)));
    images.push({ digest: record.digest, lastUsedMs, blobs, rootfsBytes, keep });
  }
  const blobs = await listBlobs(p.blobs);
  const live = await livePulls(ctx);
  const plan = planGc({ images, blobSizes: new Map([...blobs].map(([d, b]) => [d, b.size])), targetBytes: o.targetBytes, protectedBlobs: live.blobs });
  const removed: string[] = [];
  const skipped: string[] = [];
  for (const digest of plan.remove) {
    const r = await removeImage(ctx, digest, { wait: false, minIdleMs });
    (r === 'removed' || r === 'missing' ? removed : skipped).push(digest);
  }
  const blobsRemoved = await sweepBlobs(ctx);
  return { removed, skipped, blobsRemoved, beforeBytes: plan.beforeBytes, afterBytes: await storeBytes(ctx) };
}

/** Bytes the store holds: blob files plus unpacked rootfs directories. */
export async function storeBytes(ctx: StoreContext): Promise<number> {
  let n = 0;
  for (const [, b] of await listBlobs(ctx.paths.blobs)) n += b.size;
  for (const u of await readUnpackDirs(ctx)) n += u.info?.sizeBytes ?? 0;
  return n;
}

/** Pulls in progress on this node: the blobs they expect, and when the oldest started. */
async function livePulls(ctx: StoreContext): Promise<{ blobs: Set<string>; since: number | undefined }> {
  const blobs = new Set<string>();
  let since: number | undefined;
  for (const name of await fs.readdir(ctx.paths.tmp).catch(() => [] as string[])) {
    const pid = ownerPid(name);
    if (!name.startsWith('pull-') || pid === undefined || !pidAlive(pid)) continue;
    const st = await fs.stat(path.join(ctx.paths.tmp, name)).catch(() => undefined);
    if (!st) continue;
    let started = st.birthtimeMs || st.ctimeMs;
    const text = await fs.readFile(path.join(ctx.paths.tmp, name, PULL_MARKER), 'utf8').catch(() => '');
    try {
      const marker = JSON.parse(text) as { blobs?: unknown; startedAt?: unknown };
      if (typeof marker.startedAt === 'number') started = Math.min(started, marker.startedAt);
      if (Array.isArray(marker.blobs)) for (const b of marker.blobs) if (typeof b === 'string') blobs.add(b);
    } catch {
      // marker not written yet: the time guard protects its blobs
    }
    since = Math.min(since ?? Infinity, started);
  }
  return { blobs, since };
}

/**
 * Deletes index entries without an image record (a pull that died between publishing and recording)
 * and blobs no index entry references, except those of pulls in progress. Returns the blob count.
 */
export async function sweepBlobs(ctx: StoreContext): Promise<number> {
  const p = ctx.paths;
  return withLock(lockFile.layout(p), async () => {
    const orphans = new Set<string>();
    for (const d of (await readIndex(p.layout)).manifests) {
      const name = d.annotations?.[REF_NAME] ?? '';
      const m = /^sha256-([a-f0-9]{64})$/.exec(name);
      if (!m || (await lockHeld(lockFile.image(p, `sha256:${m[1]}`)))) continue;
      // Checked after the lock: a pull writes its record before it lets go of the image's lock.
      if (!(await fs.stat(metaFile(p, `sha256:${m[1]}`)).catch(() => undefined))) orphans.add(name);
    }
    if (orphans.size) await removeNamed(p.layout, orphans);
    const referenced = await referencedBlobs(p.blobs, await readIndex(p.layout));
    const live = await livePulls(ctx);
    let n = 0;
    for (const [digest, b] of await listBlobs(p.blobs)) {
      if (referenced.has(digest) || live.blobs.has(digest)) continue;
      if (live.since !== undefined && b.mtimeMs >= live.since - 5_000) continue; // written by a pull in progress
      await fs.rm(path.join(p.blobs, 'sha256', digest.slice('sha256:'.length)), { force: true });
      n++;
    }
    return n;
  }, { timeoutMs: ctx.lockTimeoutMs, what: 'the image layout' });
}

function ownerPid(name: string): number | undefined {
  const m = /^(?:pull|unpack|rm)-(\d+)-/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Removes what dead pulls, unpacks and removals left in tmp/, and unpack dirs without a record. */
async function sweepTmp(ctx: StoreContext): Promise<void> {
  for (const name of await fs.readdir(ctx.paths.tmp).catch(() => [] as string[])) {
    const pid = ownerPid(name);
    if (pid !== undefined && !pidAlive(pid)) await fs.rm(path.join(ctx.paths.tmp, name), { recursive: true, force: true });
  }
  for (const u of await readUnpackDirs(ctx)) {
    if (!u.info && !(await lockHeld(lockFile.image(ctx.paths, u.digest)))) await fs.rm(u.dir, { recursive: true, force: true });
  }
}
