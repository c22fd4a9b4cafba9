/**
 * The run dir (STATE_DIR/run): runc's root, task dirs, prepared sandboxes, locks, the sealed runc
 * links: everything that lives only as long as the node's tasks do, as runc's /run/runc and
 * containerd's /run/containerd. A runner mounts a tmpfs there (`mountRunDir`): a job creates and
 * removes ~60 small files and dirs, and on this disk's ext4 (no journal) every new inode scans
 * past the inodes freed in the last minutes, 0.1–1 ms of CPU each under a runner's churn
 * (docs/bench.md). Nothing there outlives a reboot anyway: a task's writable layer is a tmpfs
 * already. What must last (checkpoints, images, logs kept after a job, Redis) stays on disk.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { runDirOf } from '../config/load.js';
import { mountAt } from '../sandbox/rootfs.js';
import { mountOne, unmountEach } from '../sandbox/mount-table.js';
import { withLock } from './lock.js';

/** TMPFS_MAGIC (linux/magic.h): statfs' f_type of a tmpfs. */
export const TMPFS_MAGIC = 0x01021994;
/** The source name of the run dir's tmpfs in the mount table, so a release unmounts only its own. */
export const RUN_TMPFS_SOURCE = 'stasis-run';

/** Where a run dir is: a tmpfs this call 'mounted', one that was there ('tmpfs'), or the state dir's own disk (and why). */
export type RunDirPlace = { place: 'mounted' | 'tmpfs' } | { place: 'disk'; why: string };

/** The lock of the run dir's mount (on the state dir's disk: it guards the mount point itself). */
function mountLock(stateDir: string): string {
  return path.join(stateDir, 'run.lock');
}

/** Whether `dir` is on a tmpfs (a dir that cannot be statfs'd is not one: the mount then tells why). */
async function onTmpfs(dir: string): Promise<boolean> {
  return (await fs.statfs(dir).catch(() => null))?.type === TMPFS_MAGIC;
}

/**
 * Makes STATE_DIR/run a tmpfs (mode 0711, nosuid, nodev) unless it is on one already. A run dir on
 * disk that holds a task, a prepared sandbox or a container stays on disk: a mount would hide their
 * files (empty directories and stale locks it may hide). So does one where the mount fails: the
 * node works there, only slower. Resolves to where the run dir is.
 */
export async function mountRunDir(stateDir: string): Promise<RunDirPlace> {
  const dir = runDirOf(stateDir);
  await fs.mkdir(dir, { recursive: true, mode: 0o711 });
  return withLock(mountLock(stateDir), async () => {
    if (await onTmpfs(dir)) return { place: 'tmpfs' };
    if (await holdsTasks(dir)) return { place: 'disk', why: `${dir} holds tasks already (of a node that ran without the tmpfs, or of \`stasis task\`)` };
    const why = await mountOne({ fsType: 'tmpfs', source: RUN_TMPFS_SOURCE, target: dir, flags: ['nosuid', 'nodev'], data: 'mode=0711' });
    return why === null ? { place: 'mounted' } : { place: 'disk', why: `mounting a tmpfs at ${dir} failed: ${why}` };
  });
}

/** Whether the run dir holds a task, a prepared sandbox or a runc container. */
async function holdsTasks(dir: string): Promise<boolean> {
  // A directory that is not there (a fresh run dir) holds nothing.
  const entries = (p: string) => fs.readdir(p).catch(() => [] as string[]);
  for (const ns of await entries(path.join(dir, 'tasks'))) if ((await entries(path.join(dir, 'tasks', ns))).length > 0) return true;
  for (const key of await entries(path.join(dir, 'warm'))) if ((await entries(path.join(dir, 'warm', key))).some((n) => n.startsWith('s-'))) return true;
  return (await entries(path.join(dir, 'runc'))).length > 0;
}

/**
 * Unmounts the run dir's tmpfs once it holds no task, prepared sandbox or container (a runner's
 * graceful close; the next start mounts a fresh one). True when it did; a run dir with tasks, on
 * disk, or mounted by someone else stays.
 */
export async function releaseRunDir(stateDir: string): Promise<boolean> {
  const dir = runDirOf(stateDir);
  return withLock(mountLock(stateDir), async () => {
    const m = await mountAt(dir);
    if (m?.fsType !== 'tmpfs' || m.source !== RUN_TMPFS_SOURCE || (await holdsTasks(dir))) return false;
    return (await unmountEach([dir])) === null;
  });
}
