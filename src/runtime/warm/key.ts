/**
 * Which prepared sandbox fits a task: everything fixed at `runc create` time that a job may choose
 * (rootfs, user, network, limits, the log cap) makes the key; everything else (argv, env, cwd, the
 * CPU-time rlimit) goes through the launch script. A terminal and a stdin pipe are fixed at create
 * too (conmon's flags): they are part of the key, so such tasks get prepared sandboxes of their own.
 */
import { createHash } from 'node:crypto';
import type { Limits, NetworkMode } from '../../sandbox/types.js';
import type { CreateTaskOptions, ProcessSpec } from '../task.js';

/** What a prepared sandbox is created with (its key's inputs). */
export interface WarmTemplate {
  rootfs: string;
  user?: ProcessSpec['user'];
  network: NetworkMode;
  limits: Limits;
  /** conmon's log cap. */
  logMaxBytes?: number;
  /** The rootfs is already owned by the node's mapped ids. */
  mapped?: boolean;
  /** conmon keeps a stdin pipe (an attach socket) for the process. */
  stdin?: true;
  /** The process runs on a terminal (runc's console socket, conmon -t). */
  terminal?: true;
}

/** The template of a task (rootfs already resolved to an absolute path). */
export function templateOf(o: CreateTaskOptions, rootfs: string): WarmTemplate {
  const u = o.process.user;
  return {
    rootfs,
    ...(u ? { user: { uid: u.uid, gid: u.gid, ...(u.additionalGids?.length ? { additionalGids: [...u.additionalGids] } : {}) } } : {}),
    network: o.network ?? 'none',
    limits: { ...(o.limits ?? {}) },
    ...(o.logMaxBytes !== undefined ? { logMaxBytes: o.logMaxBytes } : {}),
    ...(o.rootfsMapped ? { mapped: true } : {}),
    ...(o.stdin ? { stdin: true } : {}),
    ...(o.process.terminal ? { terminal: true } : {}),
  };
}

/** Whether a directory name under warm/ is a key of prepared sandboxes (warmKey), not ready restores' or another's. */
export function isWarmKey(name: string): boolean {
  return /^[0-9a-f]{12}$/.test(name);
}

/** A short stable key of a template (12 hex digits of sha256 over its canonical JSON). */
export function warmKey(t: WarmTemplate): string {
  const l = t.limits;
  const canonical = JSON.stringify([
    t.rootfs,
    t.user ? [t.user.uid, t.user.gid, t.user.additionalGids ?? []] : null,
    t.network,
    [l.memoryBytes ?? null, l.cpus ?? null, l.pids ?? null, l.openFiles ?? null, l.diskBytes ?? null],
    t.logMaxBytes ?? null,
    // Appended only when set, so the keys of plain tasks stay what they were.
    ...(t.stdin || t.terminal ? [[t.stdin ?? false, t.terminal ?? false]] : []),
  ]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 12);
}

/**
 * Why a task cannot use a prepared sandbox, or null when it can. A chosen hostname and a console
 * size are fixed at create. A task with a timeout adopts one too: its deadline is kept by the worker
 * thread (a prepared sandbox has no conmon -T); terminal and stdin tasks adopt ones made with them.
 */
export function warmIneligible(o: CreateTaskOptions): string | null {
  if (o.process.consoleSize) return 'console size';
  if (o.hostname !== undefined) return 'hostname';
  if (!Array.isArray(o.process.args) || o.process.args.length === 0) return 'argv';
  return null;
}
