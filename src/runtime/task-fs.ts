/**
 * A task's files on the host, set up the same way for a created, restored or prepared task: the
 * lower rootfs (id-shifted under a user namespace), the writable layer (a tmpfs of the disk size),
 * the overlay at bundle/rootfs, the node-owned job directory with the launch script, and the spec
 * with the launcher's mounts. Nothing here resolves a path inside a tree a job can write.
 */
import fs from '../os/local-fs.js';
import path from 'node:path';
import { errors } from '../errors.js';
import { shiftId, shiftedRootfs } from '../sandbox/idmap.js';
import { launchScript, makeJobDir, writeJobFile, writeLaunchScript, type LaunchProcess } from '../sandbox/launcher.js';
import { starterSpec } from '../sandbox/starter.js';
import { mountOverlay } from '../sandbox/rootfs.js';
import { buildSpec } from '../sandbox/spec.js';
import type { OciSpec, SpecOptions } from '../sandbox/types.js';
import { mountWritableLayer } from '../sandbox/writable.js';
import { shiftedRootfsDir, type RuntimeContext } from './context.js';
import type { TaskPaths } from './layout.js';
import { withoutCriuConfig } from './criu-config.js';

/** The writable layer of a task whose limits name no disk size. */
export const DEFAULT_DISK_BYTES = 1024 ** 3;

/** Host ids of a container uid/gid under the node's mapping (the same ids without one). */
export function hostIds(ctx: RuntimeContext, user?: { uid: number; gid: number }): { uid: number; gid: number } {
  const u = user ?? { uid: 0, gid: 0 };
  const m = ctx.sandbox.userns;
  return m ? { uid: shiftId(u.uid, m), gid: shiftId(u.gid, m) } : { uid: u.uid, gid: u.gid };
}

/**
 * The overlay's lower dir for `rootfs`: itself, or its id-shifted copy under a user namespace (unless
 * `mapped`: an image the store unpacked with the node's mapping already).
 */
export async function lowerFor(ctx: RuntimeContext, rootfs: string, mapped = false): Promise<string> {
  const m = ctx.sandbox.userns;
  return m && !mapped ? shiftedRootfs(rootfs, m, shiftedRootfsDir(ctx)) : rootfs;
}

/**
 * Mounts the task's writable layer (tmpfs of `diskBytes`) and its overlay over `lower` at
 * bundle/rootfs. Only for a task dir created a moment ago (claimTaskDir's exclusive mkdir, a new
 * slot): nothing can be mounted under a directory that did not exist, so mountinfo is not read.
 */
export async function mountTaskRootfs(ctx: RuntimeContext, p: TaskPaths, lower: string, diskBytes: number | undefined): Promise<void> {
  await mountWritableLayer(p.layer, diskBytes ?? DEFAULT_DISK_BYTES, hostIds(ctx), { fresh: true });
  await mountOverlay({ lower, upper: p.upper, work: p.work, target: p.rootfs }, { fresh: true });
}

/** Creates the job directory and writes the native start's spec or the launch script of `proc`, owned by the job's host user. */
export async function writeJob(ctx: RuntimeContext, p: TaskPaths, proc: LaunchProcess, user?: { uid: number; gid: number }): Promise<void> {
  await makeJobDir(p.jobDir);
  if (ctx.sandbox.starter) await writeJobFile(p.jobDir, 'spec', starterSpec(proc), hostIds(ctx, user));
  else await writeLaunchScript(p.jobDir, launchScript(proc), hostIds(ctx, user));
}

/** Creates the job directory without a script (a restored task: its process is already past exec). */
export async function emptyJobDir(p: TaskPaths): Promise<void> {
  await makeJobDir(p.jobDir);
}

/** A task's spec: the launcher, the node's user namespace, seccomp and masks, this task's job dir. */
export function taskSpec(ctx: RuntimeContext, p: TaskPaths, o: Omit<SpecOptions, 'launcher' | 'userns' | 'seccomp' | 'seccompLoader' | 'masks'>): OciSpec {
  return buildSpec({
    ...o,
    annotations: withoutCriuConfig(o.annotations),
    launcher: { init: ctx.sandbox.init, busybox: ctx.sandbox.busybox, jobDir: p.jobDir, ...(ctx.sandbox.starter ? { starter: ctx.sandbox.starter.start } : {}) },
    userns: ctx.sandbox.userns,
    ...(ctx.sandbox.seccomp ? { seccomp: ctx.sandbox.seccomp } : {}),
    ...(ctx.sandbox.seccompLoader ? { seccompLoader: ctx.sandbox.seccompLoader } : {}),
    ...(ctx.sandbox.masks ? { masks: ctx.sandbox.masks } : {}),
  });
}

/** Makes the directories a task's files live in traversable (not listable) by the container's mapped root. */
export async function traversable(...dirs: string[]): Promise<void> {
  for (const d of dirs) await fs.chmod(d, 0o711).catch(() => undefined);
}

/**
 * Makes `dirs` traversable, and refuses with a clear error when a parent above them is not: runc
 * could not reach a task's bundle as the container's unprivileged root.
 */
export async function makeTraversable(...dirs: string[]): Promise<void> {
  for (const d of dirs) {
    const st = await fs.stat(d);
    if ((st.mode & 0o001) === 0) await fs.chmod(d, (st.mode & 0o7777) | 0o711);
  }
  for (let p = path.dirname(path.resolve(dirs[0]!)); p !== '/'; p = path.dirname(p)) {
    const st = await fs.stat(p).catch(() => undefined);
    if (st && (st.mode & 0o001) === 0) {
      throw errors.failedPrecondition(`${p} is not traversable by others (mode ${(st.mode & 0o777).toString(8)}): under a user namespace runc reaches a task's bundle as an unprivileged user; chmod o+x ${p} or put the state dir elsewhere`, { path: p });
    }
  }
}
