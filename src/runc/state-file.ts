/**
 * A fast path of `runc state` (used by Runc.state when the runc version is one whose format this
 * follows; see version.ts): no spawn (~17 ms a call here). runc keeps each container's state in
 * <runc root>/<id>/state.json, and derives the status from it the way this module does (runc 1.1
 * libcontainer refreshState/runType): paused when the freezer cgroup is FROZEN; stopped when the
 * init pid is gone, a zombie, or a different process (start time mismatch); created while the exec
 * FIFO exists; else running. Anything unexpected falls back to the real `runc state`.
 */
import nodeFs from 'node:fs';
import fs from '../os/local-fs.js';
import path from 'node:path';
import { isExitedState, readProcStat } from '../os/proc.js';
import type { RuncState } from './types.js';

/** The fields of runc's state.json this module reads. */
interface StateFile {
  id?: unknown;
  init_process_pid?: unknown;
  init_process_start?: unknown;
  created?: unknown;
  config?: { rootfs?: unknown; labels?: unknown; namespaces?: { type?: string; path?: string }[] };
  cgroup_paths?: Record<string, unknown>;
  /** Kept instead of config.namespaces: whether the container has a pid namespace of its own. */
  privatePid?: boolean;
}

/** Parsed state.json files by path: runc replaces the file (a new inode) whenever it writes it. */
const parsed = new Map<string, { key: string; s: StateFile }>();
/** Containers whose parsed state.json is kept (the least recently read goes first). */
const MAX_PARSED = 256;

/**
 * The fields this module reads of `file` (a state.json); null when there is none, undefined when it
 * is not JSON. The file is ~33 KB (the whole config, its seccomp rules too) and JSON.parse of it
 * ~0.5 ms, several times a job: a file whose inode, size and mtime did not change is not parsed again.
 */
function readStateFile(file: string): StateFile | null | undefined {
  let fd: number;
  try {
    fd = nodeFs.openSync(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const st = nodeFs.fstatSync(fd, { bigint: true });
    const key = `${st.ino}:${st.size}:${st.mtimeNs}`;
    const hit = parsed.get(file);
    if (hit?.key === key) {
      parsed.delete(file);
      parsed.set(file, hit);
      return hit.s;
    }
    let all: StateFile;
    try {
      all = JSON.parse(nodeFs.readFileSync(fd, 'utf8')) as StateFile;
    } catch {
      return undefined;
    }
    const s: StateFile = {
      init_process_pid: all.init_process_pid,
      init_process_start: all.init_process_start,
      created: all.created,
      config: { rootfs: all.config?.rootfs, labels: all.config?.labels },
      ...(all.cgroup_paths ? { cgroup_paths: all.cgroup_paths } : {}),
      privatePid: (all.config?.namespaces ?? []).some((n) => n.type === 'NEWPID' && !n.path),
    };
    parsed.delete(file);
    parsed.set(file, { key, s });
    if (parsed.size > MAX_PARSED) parsed.delete(parsed.keys().next().value as string);
    return s;
  } finally {
    nodeFs.closeSync(fd);
  }
}

/**
 * What a delete of a stopped container needs of its state.json (read once per version, as for
 * readRuncState): its cgroup dirs, and whether it has a pid namespace of its own; null without one.
 */
export function readDeleteFacts(runcRoot: string, id: string): { cgroups: string[]; privatePid: boolean } | null {
  const s = readStateFile(path.join(runcRoot, id, 'state.json'));
  if (!s) return null;
  const cgroups = Object.values(s.cgroup_paths ?? {}).filter((p): p is string => typeof p === 'string' && p.startsWith('/sys/fs/cgroup'));
  return { cgroups, privatePid: s.privatePid === true };
}

/** The status of a container from its runc state dir; null: no such container; undefined: cannot tell. */
export async function readRuncState(runcRoot: string, id: string): Promise<RuncState | null | undefined> {
  const dir = path.join(runcRoot, id);
  let s: StateFile | null | undefined;
  try {
    s = readStateFile(path.join(dir, 'state.json'));
  } catch {
    return undefined;
  }
  if (s === undefined) return undefined;
  if (s === null) {
    // No dir: runc does not know the container. A dir without state.json: runc is writing it.
    return (await fs.stat(dir).then(() => true, () => false)) ? undefined : null;
  }
  const pid = s.init_process_pid;
  const start = s.init_process_start;
  if (typeof pid !== 'number' || (typeof start !== 'number' && typeof start !== 'string')) return undefined;
  const labels = Array.isArray(s.config?.labels) ? (s.config.labels as unknown[]).filter((l): l is string => typeof l === 'string') : [];
  const base = {
    id,
    bundle: labels.find((l) => l.startsWith('bundle='))?.slice('bundle='.length) ?? '',
    created: typeof s.created === 'string' ? s.created : '',
    ...(typeof s.config?.rootfs === 'string' ? { rootfs: s.config.rootfs } : {}),
    annotations: Object.fromEntries(
      labels.filter((l) => !l.startsWith('bundle=') && l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    ),
  };
  const paused = await isFrozen(s.cgroup_paths ?? {});
  if (paused === undefined) return undefined;
  if (paused) return { ...base, pid, status: 'paused' };
  if (!(await initAlive(pid, String(start)))) return { ...base, pid: 0, status: 'stopped' };
  const created = await fs.stat(path.join(dir, 'exec.fifo')).then(() => true, () => false);
  return { ...base, pid, status: created ? 'created' : 'running' };
}

async function initAlive(pid: number, start: string): Promise<boolean> {
  if (pid <= 0) return false;
  const p = await readProcStat(pid);
  return p !== undefined && p.startTime === start && !isExitedState(p.state);
}

/** Whether the container's freezer says FROZEN (v1) or cgroup.freeze is 1 (v2); undefined if unreadable. */
async function isFrozen(paths: Record<string, unknown>): Promise<boolean | undefined> {
  const v1 = paths.freezer;
  const v2 = paths[''];
  const [file, frozen] =
    typeof v1 === 'string' ? [path.join(v1, 'freezer.state'), 'FROZEN'] : typeof v2 === 'string' ? [path.join(v2, 'cgroup.freeze'), '1'] : [null, ''];
  if (!file) return undefined;
  try {
    return (await fs.readFile(file, 'utf8')).trim() === frozen;
  } catch (e) {
    // runc removed the cgroup (container stopped and being deleted) or never made one: not paused.
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? false : undefined;
  }
}
