/**
 * The work behind a task's operations (InitOps), run by the façade under the task's lock once the
 * current state object allowed it. Every runc/monitor/sandbox call of a task's init lives here.
 */
import fs from '../os/local-fs.js';
import path from 'node:path';
import { closeStdin, writeAttach } from '../monitor/attach.js';
import { resizeConsole } from '../monitor/ctl.js';
import { readExit, waitExit } from '../monitor/exit-file.js';
import { mountedAmong, unmountAll, unmountOverlay } from '../sandbox/rootfs.js';
import { mountAddon, unmountStack } from '../sandbox/mount-table.js';
import { errors, hasCode } from '../errors.js';
import type { OciSpec } from '../sandbox/types.js';
import { checkpointTask } from './checkpoint.js';
import type { RuntimeContext } from './context.js';
import { createExec, listExecPids } from './exec-process.js';
import type { InitOps } from './init-state.js';
import type { TaskPaths } from './layout.js';
import { exitFrom } from './observe.js';
import { readProcessDetails } from './proc.js';
import { readJson, removeMarker, writeJsonAtomic, writeMarker, type TaskRecord } from './records.js';
import { isEmptyResources, mergeLimits, mergeOciResources, toOciResources, validateResources } from './resources.js';
import { normalizeStats } from './stats.js';
import type {
  CheckpointOptions,
  CheckpointResult,
  ConsoleSize,
  ExecOpts,
  ExecProcess,
  Exit,
  ProcessInfo,
  Resources,
  Status,
  TaskStats,
} from './task.js';

/** How long delete() waits for conmon to record the exit of a killed created task. */
const DELETE_EXIT_WAIT_MS = 5_000;

/** InitOps over runc, conmon and the overlay of one task. */
export class TaskOps implements InitOps {
  constructor(
    private readonly ctx: RuntimeContext,
    private rec: TaskRecord,
    private readonly p: TaskPaths,
  ) {}

  private get cid(): string {
    return this.rec.info.containerId;
  }

  private async saveRecord(): Promise<void> {
    await writeJsonAtomic(this.p.record, this.rec);
  }

  async start(): Promise<void> {
    await this.ctx.runc.start(this.cid);
    this.rec = { ...this.rec, startedAt: new Date().toISOString() };
    await this.saveRecord();
  }

  async kill(signal: number | string, all: boolean): Promise<void> {
    try {
      await this.ctx.runc.kill(this.cid, signal, all);
    } catch (e) {
      if (hasCode(e, 'ERR_FAILED_PRECONDITION') || hasCode(e, 'ERR_NOT_FOUND')) {
        throw errors.failedPrecondition(`cannot kill task ${this.rec.info.id}: it is not running (${e.message})`, {
          ...(e as { details?: object }).details,
        });
      }
      throw e;
    }
  }

  async pause(): Promise<void> {
    await writeMarker(this.p.markersDir, 'pausing');
    try {
      await this.ctx.runc.pause(this.cid);
    } finally {
      await removeMarker(this.p.markersDir, 'pausing');
    }
  }

  async resume(): Promise<void> {
    await this.ctx.runc.resume(this.cid);
  }

  async exec(id: string, opts: ExecOpts): Promise<ExecProcess> {
    return createExec(this.ctx, this.rec, this.p, id, opts);
  }

  async pids(): Promise<ProcessInfo[]> {
    const [pids, execs] = await Promise.all([this.ctx.runc.ps(this.cid), listExecPids(this.p)]);
    const out: ProcessInfo[] = [];
    for (const pid of pids) {
      const info = await readProcessDetails(pid, execs.get(pid));
      if (info) out.push({ pid, info });
    }
    return out;
  }

  async stats(): Promise<TaskStats> {
    return normalizeStats(this.rec.info.id, await this.ctx.runc.stats(this.cid));
  }

  async update(resources: Resources, annotations?: Record<string, string>): Promise<void> {
    validateResources(resources);
    const oci = toOciResources(resources);
    if (!isEmptyResources(resources)) await this.ctx.runc.update(this.cid, oci);
    const spec = ((await readJson(this.p.spec)) ?? this.rec.info.spec) as OciSpec;
    const linux = spec.linux ?? {};
    const current = (linux.resources ?? {}) as Record<string, unknown>;
    const newAnnotations = { ...this.rec.info.annotations, ...(annotations ?? {}) };
    const newSpec: OciSpec = {
      ...spec,
      linux: { ...linux, resources: mergeOciResources(current, oci) },
      annotations: { ...(spec.annotations ?? {}), ...(annotations ?? {}) },
    };
    await writeJsonAtomic(this.p.spec, newSpec);
    // The record keeps the task's own process (an adopted prepared sandbox's bundle runs the shim).
    const recSpec: OciSpec = { ...newSpec, process: this.rec.info.spec.process ?? newSpec.process };
    this.rec = {
      ...this.rec,
      limits: mergeLimits(this.rec.limits, resources),
      info: { ...this.rec.info, spec: recSpec, annotations: newAnnotations },
    };
    await this.saveRecord();
  }

  async checkpoint(path: string, opts: CheckpointOptions): Promise<CheckpointResult> {
    return checkpointTask(this.ctx, this.rec, this.p, path, opts);
  }

  async delete(from: Status): Promise<Exit | undefined> {
    await writeMarker(this.p.markersDir, 'deleting');
    if (from === 'created') {
      await this.ctx.runc.kill(this.cid, 'KILL').catch(() => undefined);
      const ac = new AbortController();
      const t = setTimeout(() => ac.abort(), DELETE_EXIT_WAIT_MS);
      await waitExit(this.p.runDir, ac.signal).catch(() => undefined);
      clearTimeout(t);
    }
    const recorded = await readExit(this.p.runDir);
    await this.ctx.runc.delete(this.cid, true);
    await removeTaskDir(this.p);
    return recorded ? exitFrom(recorded, this.rec.pid ?? 0, false) : undefined;
  }

  async resizePty(size: ConsoleSize): Promise<void> {
    if (!this.rec.terminal) throw errors.failedPrecondition(`cannot resize task ${this.rec.info.id}: it has no terminal`);
    validateSize(size);
    await resizeConsole(this.p.bundle, size);
  }

  async closeIO(): Promise<void> {
    this.requireStdin();
    await closeStdin(this.p.bundle, { runDir: this.p.runDir });
  }

  async writeStdin(data: string | Uint8Array): Promise<void> {
    this.requireStdin();
    await writeAttach(this.p.bundle, data);
  }

  private requireStdin(): void {
    if (!this.rec.stdin && !this.rec.terminal) {
      throw errors.failedPrecondition(`task ${this.rec.info.id} was created without stdin (create it with stdin: true)`);
    }
  }
}

/** Validates a console size. */
export function validateSize(size: ConsoleSize): void {
  for (const k of ['width', 'height'] as const) {
    const v = size?.[k];
    if (!Number.isInteger(v) || v <= 0 || v > 65535) {
      throw errors.invalidArgument(`Expected \`size.${k}\` to be an integer from 1 to 65535, got \`${JSON.stringify(v)}\``, {
        field: `size.${k}`,
      });
    }
  }
}

/**
 * Unmounts a task's rootfs and removes its directory; refuses to remove anything still mounted. A
 * task adopted from a prepared sandbox is a symlink to the sandbox's directory: both go. With
 * `tombstone` (and always for such a sandbox) the directory is first renamed to `.del-<name>-…`, so
 * nobody listing its parent meanwhile sees a half-removed one (a slot whose claim file is already gone).
 */
export async function removeTaskDir(p: TaskPaths, o: { tombstone?: boolean } = {}): Promise<void> {
  // The overlay first, then the tmpfs under it: the job's files go with the tmpfs, so the removal
  // below never walks a tree the job wrote. With the mount addon: each unmounted until nothing is
  // mounted there, and the removal itself refuses to enter another mount (no mountinfo read).
  const native = mountAddon();
  const tree = native?.removeTree ? native : null;
  if (tree) {
    for (const t of [p.rootfs, p.layer]) if (unmountStack(tree, t) !== null) await unmountOverlay(t);
  } else {
    await unmountAll([p.rootfs, p.layer]);
    const [still] = await mountedAmong([p.rootfs, p.layer]);
    if (still) throw errors.runtime(`cannot remove task dir ${p.dir}: ${still} is still mounted`, { path: still });
  }
  const rm = async (dir: string) => {
    if (!tree) return fs.rm(dir, { recursive: true, force: true });
    try {
      tree.removeTree!(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
      throw errors.runtime(`cannot remove task dir ${p.dir}: something is still mounted inside ${dir}`, { path: dir });
    }
  };
  const link = await fs.lstat(p.dir).then((st) => st.isSymbolicLink(), () => false);
  const real = link ? await fs.realpath(p.dir).catch(() => undefined) : p.dir;
  if (real && (link || o.tombstone)) {
    const tomb = path.join(path.dirname(real), `${TOMBSTONE_PREFIX}${path.basename(real)}-${process.pid}`);
    const moved = await fs.rename(real, tomb).then(() => true, () => false);
    await rm(moved ? tomb : real);
  }
  await rm(p.dir);
}

/** Name prefix of directories being removed (see removeTaskDir). */
export const TOMBSTONE_PREFIX = '.del-';
