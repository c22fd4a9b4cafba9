/**
 * Which prepared sandbox fits a task: everything fixed at `runc create` time that a job may choose
 * (rootfs, user, network, limits, the log cap) makes the key; everything else (argv, env, cwd, the
 * CPU-time rlimit) goes through the launch script. Tasks that need conmon flags fixed at create
 * (terminal, stdin) take the normal path (see warmIneligible).
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
  };
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
  ]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 12);
}

/**
 * Why a task cannot use a prepared sandbox, or null when it can. Terminal and stdin tasks need
 * conmon flags fixed at create; a chosen hostname is fixed at create. A task with a timeout adopts
 * one too: its deadline is kept by the worker thread (a prepared sandbox has no conmon -T).
 */
export function warmIneligible(o: CreateTaskOptions): string | null {
  if (o.process.terminal) return 'terminal';
  if (o.process.consoleSize) return 'console size';
  if (o.stdin) return 'stdin';
  if (o.hostname !== undefined) return 'hostname';
  if (!Array.isArray(o.process.args) || o.process.args.length === 0) return 'argv';
  return null;
}
