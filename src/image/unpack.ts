/**
 * Unpacked rootfs directories: ONE per (image digest, id mapping), made by umoci in a temporary
 * directory and renamed into place, so a reader sees a complete rootfs or none. Never written after
 * the rename: the runtime mounts `rootfs/<key>/rootfs` as an overlay's lower dir.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { StoreContext } from './context.js';
import type { IdMapping } from './mapping.js';
import { layoutName, unpackDir } from './paths.js';
import { readRecord, UnpackRecordSchema, writeJsonAtomic, type ImageRecord, type UnpackRecord } from './records.js';
import { umociUnpack } from './umoci.js';

/** The record file inside an unpack directory. */
export const UNPACK_RECORD = 'unpack.json';

/** An unpacked rootfs. */
export interface Unpacked {
  /** The directory to mount (read-only lower dir). */
  rootfs: string;
  record: UnpackRecord;
  /** Whether this call made it. */
  created: boolean;
}

/** The unpack of `digest` with `mapping`, if it exists. */
export async function findUnpacked(ctx: StoreContext, digest: string, mapping: IdMapping): Promise<Unpacked | undefined> {
  const dir = unpackDir(ctx.paths, digest, mapping);
  const record = await readRecord(path.join(dir, UNPACK_RECORD), UnpackRecordSchema);
  return record ? { rootfs: path.join(dir, 'rootfs'), record, created: false } : undefined;
}

/**
 * Unpacks an image with `mapping` unless that is done. The caller holds the image's lock, so
 * concurrent callers wait for one unpack and GC cannot remove the image's blobs meanwhile.
 */
export async function ensureUnpacked(ctx: StoreContext, image: ImageRecord, mapping: IdMapping, what: string): Promise<Unpacked> {
  const found = await findUnpacked(ctx, image.digest, mapping);
  if (found) return found;
  const p = ctx.paths;
  const dir = unpackDir(p, image.digest, mapping);
  await fs.mkdir(p.tmp, { recursive: true });
  await fs.mkdir(p.rootfs, { recursive: true });
  const tmp = path.join(p.tmp, `unpack-${process.pid}-${randomUUID().slice(0, 8)}`);
  await fs.mkdir(tmp, { mode: 0o700 });
  try {
    await umociUnpack(ctx.tools, { layout: p.layout, name: layoutName(image.digest), rootfs: path.join(tmp, 'rootfs'), mapping, image: what });
    const record: UnpackRecord = { digest: image.digest, mapping, sizeBytes: await treeBytes(path.join(tmp, 'rootfs')), unpackedAt: new Date().toISOString() };
    await writeJsonAtomic(path.join(tmp, UNPACK_RECORD), record);
    await fs.chmod(tmp, 0o755);
    for (let attempt = 0; ; attempt++) {
      try {
        await fs.rename(tmp, dir);
        return { rootfs: path.join(dir, 'rootfs'), record, created: true };
      } catch (e) {
        if (!['ENOTEMPTY', 'EEXIST'].includes((e as NodeJS.ErrnoException).code ?? '') || attempt > 2) throw e;
      }
      // Never delete a published unpack (a task may stand on it): only debris without a record.
      const there = await findUnpacked(ctx, image.digest, mapping);
      if (there) return there;
      const debris = path.join(p.tmp, `rm-${process.pid}-${randomUUID().slice(0, 8)}`);
      await fs.rename(dir, debris).catch(() => undefined);
      await fs.rm(debris, { recursive: true, force: true });
    }
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

/** Apparent bytes of the files under `dir` (hard-linked files counted once). */
export async function treeBytes(dir: string): Promise<number> {
  let total = 0;
  const seen = new Set<string>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await fs.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const st = await fs.lstat(p);
      if (st.nlink > 1 && !st.isDirectory()) {
        const id = `${st.dev}:${st.ino}`;
        if (seen.has(id)) continue;
        seen.add(id);
      }
      total += st.size;
      if (st.isDirectory()) await walk(p);
    }
  };
  await walk(dir);
  return total;
}
