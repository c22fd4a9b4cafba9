/**
 * A directory rootfs made usable under a user namespace: a copy whose owners are shifted into the
 * node's host id range (container uid N → host hostId+N), made once per (source, content, mapping)
 * and cached under the state dir. runc 1.1 has no idmapped mounts and util-linux 2.38 cannot make
 * them, so a copy it is (docs/security.md has its cost). The source is an operator-allowed directory
 * (node policy), read with lstat only; the copy is node-owned and only ever an overlay's lower dir.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import local from '../os/local-fs.js';
import type { IdMapping } from '../config/schema.js';
import { errors } from '../errors.js';

/** The host id an in-container id maps to (ids beyond the range become the range's nobody, 65534). */
export function shiftId(id: number, m: IdMapping): number {
  const inside = id < m.size ? id : Math.min(65_534, m.size - 1);
  return m.hostId + inside;
}

/** Lists every entry of a tree (without following symlinks), depth first, directories after their content. */
async function walk(dir: string, out: string[]): Promise<void> {
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await walk(p, out);
    out.push(p);
  }
}

/** A cheap identity of a tree: names, types, sizes, modes, owners and mtimes of every entry. */
export async function treeStamp(root: string): Promise<string> {
  const h = createHash('sha256');
  const entries: string[] = [];
  await walk(root, entries);
  entries.sort();
  for (const p of [root, ...entries]) {
    const st = await fs.lstat(p);
    h.update(`${path.relative(root, p)}\0${st.mode}\0${st.uid}\0${st.gid}\0${st.size}\0${Math.floor(st.mtimeMs)}\n`);
  }
  return h.digest('hex').slice(0, 16);
}

/** Shifts every owner of the tree at `root` into `m`, keeping modes (chown clears setuid/setgid bits). */
export async function shiftTree(root: string, m: IdMapping): Promise<void> {
  const entries: string[] = [];
  await walk(root, entries);
  for (const p of [...entries, root]) {
    const st = await fs.lstat(p);
    await fs.lchown(p, shiftId(st.uid, m), shiftId(st.gid, m));
    if (!st.isSymbolicLink() && (st.mode & 0o6000) !== 0) await fs.chmod(p, st.mode & 0o7777);
  }
}

/** Memo of source stamps per process: a rootfs is listed once per thread (docs/security.md). */
const stamps = new Map<string, Promise<string>>();

/**
 * The id-shifted copy of rootfs `src` for mapping `m` under `cacheDir` (CACHE/<name>/rootfs), made if
 * missing. Concurrent callers (threads, processes) each build into a private temporary directory;
 * the first rename wins, and a complete copy is exactly a CACHE/<name> that exists.
 */
export async function shiftedRootfs(src: string, m: IdMapping, cacheDir: string): Promise<string> {
  let stamp = stamps.get(src);
  if (!stamp) {
    stamp = treeStamp(src);
    stamps.set(src, stamp);
    stamp.catch(() => stamps.delete(src));
  }
  const key = createHash('sha256').update(src).digest('hex').slice(0, 12);
  const dir = path.join(cacheDir, `${key}-${await stamp}-${m.hostId}-${m.size}`);
  const rootfs = path.join(dir, 'rootfs');
  // On every preparation: a stat on the thread, not a thread-pool round trip.
  if (await local.stat(rootfs).then(() => true, () => false)) return rootfs;
  await fs.mkdir(cacheDir, { recursive: true, mode: 0o711 });
  const tmp = path.join(cacheDir, `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await fs.mkdir(tmp, { mode: 0o711 });
    await execa('cp', ['-a', '--reflink=auto', '--no-target-directory', src, path.join(tmp, 'rootfs')]);
    await shiftTree(path.join(tmp, 'rootfs'), m);
    await fs.writeFile(path.join(tmp, 'source'), `${src}\n`, { mode: 0o600 });
    await fs.rename(tmp, dir).catch(async (e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST') throw e;
      await fs.rm(tmp, { recursive: true, force: true });
    });
  } catch (e) {
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    const err = e as { stderr?: string; message?: string };
    throw errors.runtime(`cannot make the id-shifted copy of rootfs ${src}: ${(err.stderr || err.message || String(e)).trim()}`, { path: src });
  }
  return rootfs;
}
