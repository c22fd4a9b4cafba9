/**
 * Whether a task's overlay upper layer holds anything a checkpoint must carry. runc creates the
 * mountpoints of the spec's mounts that the lower rootfs lacks (/.stasis/init, /.stasis/job, …) in
 * the upper layer, and CRIU makes them again on restore (as the host's root); overlayfs copies a
 * directory up, unchanged, when something was created in it and removed again (CRIU's dump leaves
 * /tmp so). When that is all there is, the rootfs diff (a tar and a spawn on each side of a
 * checkpoint) can be left out.
 */
import type { Stats } from 'node:fs';
import fs from '../os/local-fs.js';
import path from 'node:path';

/** Entries looked at before giving up and saying "keep the diff". */
const MAX_ENTRIES = 64;

/** The three trees of a task's overlay: its upper and lower layers and the mounted result. */
export interface OverlayTrees {
  upper: string;
  lower: string;
  /** The mounted overlay (to see that a copied-up directory hides nothing of the lower one). */
  merged: string;
}

/**
 * True when every entry of the upper layer is either a mountpoint runc makes (an empty regular file
 * at a mount destination, or a new directory on the way to one: isMountpointDir) or a directory
 * copied up unchanged (the lower's mode and owner, hiding none of the lower's entries). Anything
 * else (a job's file, a whiteout, a symlink, a chmod) means the diff is needed.
 */
export async function upperHoldsOnlyMountpoints(t: OverlayTrees, destinations: string[]): Promise<boolean> {
  const dests = new Set(destinations.map((d) => path.posix.normalize(`/${d}`)));
  const onTheWay = (rel: string) => [...dests].some((d) => d.startsWith(`${rel}/`));
  const root = await fs.lstat(t.upper).catch(() => null);
  if (!root?.isDirectory()) return false;
  let seen = 0;
  const walk = async (rel: string): Promise<boolean> => {
    for (const name of await fs.readdir(path.join(t.upper, rel))) {
      if (++seen > MAX_ENTRIES) return false;
      const r = `${rel}/${name}`;
      const st = await fs.lstat(path.join(t.upper, r));
      if (st.isFile()) {
        if (!dests.has(r) || st.size !== 0) return false;
        continue;
      }
      if (!st.isDirectory()) return false;
      const below = await fs.lstat(path.join(t.lower, r)).catch(() => null);
      if (below && !below.isDirectory()) return false;
      if (below ? !sameOwnerAndMode(st, below) : !isMountpointDir(st, root)) return false;
      if (!below && !(dests.has(r) || onTheWay(r))) return false;
      if (below && !(await hidesNothing(t, r))) return false;
      if (!(await walk(r))) return false;
    }
    return true;
  };
  return walk('').catch(() => false);
}

/** True when `a` has `b`'s mode and owner (a directory overlayfs copied up unchanged). */
function sameOwnerAndMode(a: Stats, b: Stats): boolean {
  return a.mode === b.mode && a.uid === b.uid && a.gid === b.gid;
}

/**
 * True for a directory runc or CRIU made on the way to a mountpoint: 0755, owned like the upper
 * layer (runc inside the task's user namespace) or by the host's root (CRIU making them again on a
 * restore). A job's own entries are owned by its mapped ids, never by the host's root (outside its
 * user namespace's map), and the mount destinations are mounted over while it runs.
 */
function isMountpointDir(st: Stats, upperRoot: Stats): boolean {
  if (st.mode !== 0o40755) return false;
  return (st.uid === upperRoot.uid && st.gid === upperRoot.gid) || (st.uid === 0 && st.gid === 0);
}

/** True when the merged directory `rel` still shows every entry of the lower one (it is not opaque). */
async function hidesNothing(t: OverlayTrees, rel: string): Promise<boolean> {
  const lower = await fs.readdir(path.join(t.lower, rel));
  if (lower.length === 0) return true;
  const merged = new Set(await fs.readdir(path.join(t.merged, rel)).catch(() => [] as string[]));
  return lower.every((n) => merged.has(n));
}
