/** Digests of checkpoint files and the cheap identity of a rootfs. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { errors } from '../errors.js';
import type { ManifestEntry, RootfsIdentity } from './manifest.js';

/** Read size for digests: 4 MiB chunks hash a CRIU image ~3x faster than the stream default of 64 KiB (5.9 → 1.8 ms/MiB here). */
const DIGEST_CHUNK = 4 << 20;

/** sha256 (lowercase hex) of a file's content, streamed. */
export async function sha256File(p: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(p, { highWaterMark: DIGEST_CHUNK })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * Every regular file and symlink under `dir` (paths relative, '/'-separated, sorted), skipping
 * the relative paths in `exclude`. Files get size and sha256; other file types are refused.
 */
export async function digestTree(dir: string, exclude: ReadonlySet<string> = new Set()): Promise<ManifestEntry[]> {
  const out: ManifestEntry[] = [];
  async function walk(rel: string): Promise<void> {
    const entries = await fs.readdir(path.join(dir, rel), { withFileTypes: true });
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (exclude.has(r)) continue;
      const abs = path.join(dir, r);
      if (e.isDirectory()) await walk(r);
      else if (e.isSymbolicLink()) out.push({ type: 'symlink', path: r, target: await fs.readlink(abs) });
      else if (e.isFile()) {
        const st = await fs.stat(abs);
        out.push({ type: 'file', path: r, size: st.size, sha256: await sha256File(abs) });
      } else {
        throw errors.checkpoint(`checkpoint file ${r} is neither a regular file nor a symlink`, { file: r });
      }
    }
  }
  await walk('');
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/**
 * A cheap, stable identity of a rootfs directory: sha256 over a sorted listing of every entry's path,
 * type, mode, owner, size and symlink target. Mtimes are left out on purpose, so two nodes that built
 * the same rootfs independently agree; a same-size in-place edit is not detected (pass an image digest
 * for that).
 */
export async function listingDigest(root: string): Promise<string> {
  const lines: string[] = [];
  async function walk(rel: string): Promise<void> {
    const entries = await fs.readdir(path.join(root, rel), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      const st = await fs.lstat(path.join(root, r));
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isDirectory()) {
        lines.push(`d ${r} ${mode} ${st.uid}:${st.gid}`);
        await walk(r);
      } else if (st.isSymbolicLink()) {
        lines.push(`l ${r} -> ${await fs.readlink(path.join(root, r))}`);
      } else {
        const kind = st.isFile() ? 'f' : 'o';
        lines.push(`${kind} ${r} ${mode} ${st.uid}:${st.gid} ${st.size} ${st.isFile() ? '' : st.rdev}`);
      }
    }
  }
  await walk('');
  return `sha256:${createHash('sha256').update(lines.join('\n')).digest('hex')}`;
}

/** Identity of the rootfs at `p`: the given image digest, else a listing digest. ERR_NOT_FOUND when missing. */
export async function rootfsIdentity(p: string, givenDigest?: string): Promise<RootfsIdentity> {
  if (givenDigest) return { path: p, digest: givenDigest, source: 'given' };
  const st = await fs.stat(p).catch(() => undefined);
  if (!st?.isDirectory()) throw errors.notFound(`rootfs ${p} does not exist or is not a directory`, { path: p });
  return { path: p, digest: await listingDigest(p), source: 'listing' };
}
