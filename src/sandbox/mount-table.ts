/**
 * The node's calls on the mount table: mount(2) and umount2(2) made in-process by a Node-API addon
 * (native/mount.c, built by `npm run build` where a C compiler is) or, without it, busybox-static's
 * `mount`/`umount` applets through the spawn helper. A task makes three of them (its writable
 * layer's tmpfs, its overlay, one unmount of both); a spawn costs ~10 ms of CPU, a syscall ~0.1 ms.
 * Every argument is the node's own (paths under its state dir, options it wrote), never a job's.
 */
import { failureText, runCommand } from '../os/command.js';
import { loadAddon } from '../os/native-addon.js';
import { BUSYBOX_BINARY } from './busybox.js';

/** The mount flags the node sets. */
export type MountFlag = 'nosuid' | 'nodev';

/** Their MS_* values (linux/mount.h). */
const MS_FLAGS: Record<MountFlag, number> = { nosuid: 2, nodev: 4 };
/** umount2's MNT_DETACH (a lazy unmount) and UMOUNT_NOFOLLOW (a symlink as the target is refused). */
const MNT_DETACH = 2;
const UMOUNT_NOFOLLOW = 8;

/** One mount: `data` is the filesystem's own option string (size=…, lowerdir=…). */
export interface MountSpec {
  fsType: string;
  source: string;
  target: string;
  flags: MountFlag[];
  data: string;
}

/** What native/mount.c exports. */
export interface MountAddon {
  mount(source: string, target: string, fsType: string, flags: number, data: string): void;
  umount(target: string, flags: number): void;
  /** Removes a tree without following symlinks or leaving its mount (EXDEV: something is mounted inside). */
  removeTree?(path: string): void;
}

/** The addon when it is built and not turned off (STASIS_NATIVE_MOUNT=0); null otherwise. */
export function mountAddon(): MountAddon | null {
  return process.env.STASIS_NATIVE_MOUNT === '0' ? null : loadAddon<MountAddon>('stasis_mount');
}

/** Whether mounts are syscalls here: the addon 'built', turned 'off' (STASIS_NATIVE_MOUNT=0) or 'missing'. */
export function mountAddonState(env: NodeJS.ProcessEnv = process.env): 'built' | 'off' | 'missing' {
  if (env.STASIS_NATIVE_MOUNT === '0') return 'off';
  return mountAddon() ? 'built' : 'missing';
}

/** Mounts `m`; null once done, else why it failed (the errno's name and text, or busybox's stderr). */
export async function mountOne(m: MountSpec, native = mountAddon()): Promise<string | null> {
  if (native) {
    try {
      native.mount(m.source, m.target, m.fsType, m.flags.reduce((all, f) => all | MS_FLAGS[f], 0), m.data);
      return null;
    } catch (e) {
      return errnoText(e);
    }
  }
  const r = await runCommand(BUSYBOX_BINARY, ['mount', '-t', m.fsType, '-o', [m.data, ...m.flags].filter((o) => o !== '').join(','), m.source, m.target]);
  return r.exitCode === 0 ? null : failureText(r);
}

/** Unmounts `targets` in order (lazily with `detach`); null once all are, else why one failed. */
export async function unmountEach(targets: string[], o: { detach?: boolean } = {}, native = mountAddon()): Promise<string | null> {
  if (targets.length === 0) return null;
  if (native) {
    for (const t of targets) {
      try {
        native.umount(t, UMOUNT_NOFOLLOW | (o.detach ? MNT_DETACH : 0));
      } catch (e) {
        return errnoText(e);
      }
    }
    return null;
  }
  const r = await runCommand(BUSYBOX_BINARY, ['umount', ...(o.detach ? ['-l'] : []), ...targets]);
  return r.exitCode === 0 ? null : failureText(r);
}

/**
 * Unmounts everything stacked at `target` with the addon: umount2 until nothing is mounted there
 * (EINVAL) or the path is gone (ENOENT). No mountinfo is read. Null once done, else why it failed
 * (EBUSY: the caller detaches it lazily).
 */
export function unmountStack(native: MountAddon, target: string): string | null {
  for (let i = 0; i < MAX_STACKED; i++) {
    try {
      native.umount(target, UMOUNT_NOFOLLOW);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      return code === 'EINVAL' || code === 'ENOENT' ? null : errnoText(e);
    }
  }
  return `umount ${target}: still mounted after ${MAX_STACKED} unmounts`;
}

/** Mounts unmountStack takes off one target before it gives up. */
const MAX_STACKED = 16;

function errnoText(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code ? `${err.message} (${err.code})` : String(err.message ?? e);
}
