/**
 * A task's writable layer: its overlay's upper and work dirs live on a tmpfs of their own, mounted at
 * TASK/overlay with `size=` the job's disk limit. Writing past it gives the job ENOSPC, never the
 * host's disk; the tmpfs pages are charged to the job's memory cgroup (docs/security.md: a job's
 * memory limit bounds its RAM and its files together). RLIMIT_FSIZE (spec.ts) caps single files too.
 */
import fs from '../os/local-fs.js';
import path from 'node:path';
import { errors } from '../errors.js';
import { mountOne } from './mount-table.js';
import { isMounted, unmountOverlay } from './rootfs.js';

/** One inode per 16 KiB of the layer, at least 16384: a job cannot pin kernel memory with empty files. */
export function inodesFor(bytes: number): number {
  return Math.max(16_384, Math.floor(bytes / 16_384));
}

/**
 * Mounts a tmpfs of `bytes` at `dir` (created) and makes `upper` (owned by `root`, the container's
 * root user on the host) and `work` in it. Idempotent: an existing tmpfs at `dir` is kept (unless
 * the caller says `fresh`: its directory is new, so it cannot have one).
 */
export async function mountWritableLayer(
  dir: string,
  bytes: number,
  root: { uid: number; gid: number },
  o: { fresh?: boolean } = {},
): Promise<{ upper: string; work: string }> {
  const upper = path.join(dir, 'upper');
  const work = path.join(dir, 'work');
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  // `fresh`: the caller made the task dir just now, so nothing can be mounted here (no mountinfo read).
  if (o.fresh || !(await isMounted(dir))) {
    const data = `size=${bytes},nr_inodes=${inodesFor(bytes)},mode=0700`;
    const failed = await mountOne({ fsType: 'tmpfs', source: 'stasis-layer', target: dir, flags: ['nosuid', 'nodev'], data });
    if (failed !== null) throw errors.runtime(`cannot mount the writable layer at ${dir}: ${failed}`, { path: dir });
  }
  // The tmpfs root is the node's (mode 0700, host root): a job writes inside `upper`, never next to
  // it, so neither path can be a symlink a job planted (docs/security.md, the invariant).
  await fs.mkdir(upper, { recursive: true, mode: 0o755 });
  await fs.mkdir(work, { recursive: true, mode: 0o700 });
  await fs.chown(upper, root.uid, root.gid);
  return { upper, work };
}

/** Unmounts a task's writable layer (its contents go with it). No error when nothing is mounted. */
export async function unmountWritableLayer(dir: string): Promise<void> {
  await unmountOverlay(dir);
}
