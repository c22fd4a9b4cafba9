/**
 * Masked directories as read-only binds of one node-owned empty directory. runc masks a directory
 * of maskedPaths with a read-only tmpfs of its own, and CRIU saves and restores every tmpfs of a
 * container with a `tar | gzip` pair (a fork and two execs, ~15 ms each way on the 2-core bench
 * VMs), even an empty read-only one. A bind mount from the spec is an external mount to CRIU
 * (runc names it in the dump and maps it back at restore): nothing to archive. The task sees the
 * same thing: an empty directory it cannot write to.
 *
 * Only paths outside /proc can be masked so (runc refuses spec mounts inside /proc); /proc/acpi and
 * the others stay in maskedPaths.
 */
import fs from '../os/local-fs.js';
import path from 'node:path';
import type { OciMount } from './launcher.js';

/** Masked directories that are bind-mounted from the empty directory instead of runc's tmpfs. */
export const BIND_MASKED_PATHS: readonly string[] = ['/sys/firmware'];

/** The read-only bind mounts that mask `paths` with `emptyDir`. */
export function maskMounts(emptyDir: string, paths: readonly string[] = BIND_MASKED_PATHS): OciMount[] {
  return paths.map((destination) => ({ destination, type: 'bind', source: emptyDir, options: ['bind', 'ro', 'nosuid', 'nodev', 'noexec'] }));
}

/** Whether `m` is one of the masking binds (of any node's empty directory). */
export function isMaskMount(m: { destination: string; type?: string }): boolean {
  return m.type === 'bind' && BIND_MASKED_PATHS.includes(m.destination);
}

/** Where the node's empty directory lives. */
export function emptyDirPath(stateDir: string): string {
  return path.join(stateDir, 'empty');
}

/**
 * Makes (or checks) the node's empty directory: owned by this process' user, mode 0555, no entries,
 * not a symlink. Returns its path, or undefined when it cannot be used as such (the tasks then get
 * runc's tmpfs masks, as before). A task cannot write to it: its mounts are read-only, and under a
 * user namespace the container's root is not its owner either.
 */
export async function ensureEmptyDir(stateDir: string): Promise<string | undefined> {
  const dir = emptyDirPath(stateDir);
  await fs.mkdir(dir, { recursive: true, mode: 0o555 });
  const st = await fs.lstat(dir);
  if (!st.isDirectory() || st.uid !== process.getuid?.()) return undefined;
  if ((st.mode & 0o7777) !== 0o555) await fs.chmod(dir, 0o555);
  if ((await fs.readdir(dir)).length > 0) return undefined;
  return dir;
}

/** Which of BIND_MASKED_PATHS exist as directories on this host (runc masks nothing that is missing; a bind would need its mount point). */
export async function bindMaskedHere(): Promise<string[]> {
  const out: string[] = [];
  for (const p of BIND_MASKED_PATHS) {
    // Missing (or unreadable) on this host: runc would mask nothing there, so no bind either.
    const st = await fs.stat(p).catch(() => undefined);
    if (st?.isDirectory()) out.push(p);
  }
  return out;
}
