/** What the store holds: image records with their last use, the references to them, their unpacks. */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { StoreContext } from './context.js';
import { parseUnpackKey, type IdMapping } from './mapping.js';
import { hexOf } from './paths.js';
import { ImageRecordSchema, readRecord, RefRecordSchema, UnpackRecordSchema, type ImageRecord, type RefRecord } from './records.js';
import { UNPACK_RECORD } from './unpack.js';

/** One unpacked rootfs of an image. */
export interface UnpackInfo {
  mapping: IdMapping;
  /** The directory to mount. */
  rootfs: string;
  sizeBytes: number;
  unpackedAt: string;
}

/** One image of the store, as list() and inspect() show it. */
export interface ImageInfo extends ImageRecord {
  /** Canonical references that currently resolve to it here. */
  refs: string[];
  lastUsedAt: string;
  lastUsedMs: number;
  unpacked: UnpackInfo[];
}

/** Every image record (files `meta/<hex>.json`; anything else there is ignored). */
export async function readImageRecords(ctx: StoreContext): Promise<{ record: ImageRecord; lastUsedMs: number }[]> {
  const out: { record: ImageRecord; lastUsedMs: number }[] = [];
  for (const name of await fs.readdir(ctx.paths.meta).catch(() => [] as string[])) {
    if (!/^[a-f0-9]{64}\.json$/.test(name)) continue;
    const file = path.join(ctx.paths.meta, name);
    const st = await fs.stat(file).catch(() => undefined);
    const record = st ? await readRecord(file, ImageRecordSchema).catch(() => undefined) : undefined;
    if (st && record) out.push({ record, lastUsedMs: st.mtimeMs });
  }
  return out;
}

/** Every reference record. */
export async function readRefRecords(ctx: StoreContext): Promise<RefRecord[]> {
  const out: RefRecord[] = [];
  for (const name of await fs.readdir(ctx.paths.refs).catch(() => [] as string[])) {
    if (!name.endsWith('.json')) continue;
    const r = await readRecord(path.join(ctx.paths.refs, name), RefRecordSchema).catch(() => undefined);
    if (r) out.push(r);
  }
  return out;
}

/** Every unpack directory: its name, what it is, and its record (undefined for debris). */
export async function readUnpackDirs(ctx: StoreContext): Promise<{ dir: string; digest: string; info?: UnpackInfo }[]> {
  const out: { dir: string; digest: string; info?: UnpackInfo }[] = [];
  for (const name of await fs.readdir(ctx.paths.rootfs).catch(() => [] as string[])) {
    const key = parseUnpackKey(name);
    if (!key) continue;
    const dir = path.join(ctx.paths.rootfs, name);
    const rec = await readRecord(path.join(dir, UNPACK_RECORD), UnpackRecordSchema).catch(() => undefined);
    const info = rec ? { mapping: rec.mapping, rootfs: path.join(dir, 'rootfs'), sizeBytes: rec.sizeBytes, unpackedAt: rec.unpackedAt } : undefined;
    out.push({ dir, digest: key.digest, ...(info ? { info } : {}) });
  }
  return out;
}

/** Every image with its references and unpacks, most recently used first. */
export async function readInventory(ctx: StoreContext): Promise<ImageInfo[]> {
  const [images, refs, unpacks] = await Promise.all([readImageRecords(ctx), readRefRecords(ctx), readUnpackDirs(ctx)]);
  return images
    .map(({ record, lastUsedMs }) => ({
      ...record,
      refs: refs.filter((r) => r.digest === record.digest).map((r) => r.ref).sort(),
      lastUsedAt: new Date(lastUsedMs).toISOString(),
      lastUsedMs,
      unpacked: unpacks.filter((u) => u.digest === record.digest && u.info).map((u) => u.info!),
    }))
    .sort((a, b) => b.lastUsedMs - a.lastUsedMs);
}

/**
 * Finds a stored image by canonical reference, digest, or a digest prefix of at least 12 hex
 * characters (local only, no registry). Undefined when there is none; ambiguous prefixes match none.
 */
export function findImage(images: ImageInfo[], query: { canonical?: string; text: string }): ImageInfo | undefined {
  if (query.canonical) {
    const byRef = images.find((i) => i.refs.includes(query.canonical!));
    if (byRef) return byRef;
  }
  const hex = hexOf(query.text);
  if (/^[a-f0-9]{12,64}$/.test(hex)) {
    const hits = images.filter((i) => hexOf(i.digest).startsWith(hex));
    if (hits.length === 1) return hits[0];
  }
  const at = query.text.lastIndexOf('@');
  if (at >= 0) return images.find((i) => i.digest === query.text.slice(at + 1));
  return undefined;
}
