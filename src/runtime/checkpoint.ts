/**
 * Task.checkpoint: a 'checkpointing' marker first (so a crash mid-dump is recognisable), then
 * `runc checkpoint` with CRIU, then the spec, the rootfs diff and checkpoint.json (written last: its
 * presence means the directory is complete). See CHECKPOINT_LAYOUT in task.ts.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { waitExit } from '../monitor/exit-file.js';
import { writeRootfsDiff } from '../sandbox/rootfs.js';
import type { OciMount } from '../sandbox/launcher.js';
import type { OciSpec } from '../sandbox/types.js';
import { upperHoldsOnlyMountpoints } from '../sandbox/upper-scan.js';
import { errors, hasCode, StasisError } from '../errors.js';
import { failpoint } from '../os/failpoint.js';
import type { RuntimeContext } from './context.js';
import type { TaskPaths } from './layout.js';
import { readJson, removeMarker, writeJsonAtomic, writeMarker, type TaskRecord } from './records.js';
import { CHECKPOINT_LAYOUT } from '../checkpoint/layout.js';
import { type CheckpointMeta, type CheckpointOptions, type CheckpointResult } from './task.js';

/** How long to wait for conmon to record the exit after a checkpoint ended the task. */
const EXIT_AFTER_DUMP_MS = 10_000;

/** `runc checkpoint` of the task into `images` with CRIU. */
async function dump(ctx: RuntimeContext, rec: TaskRecord, images: string, work: string, opts: CheckpointOptions, parentPath: string | undefined): Promise<void> {
  await ctx.runc.checkpoint(rec.info.containerId, {
    imagePath: images,
    workPath: work,
    leaveRunning: !!opts.leaveRunning,
    tcpEstablished: opts.tcpEstablished,
    fileLocks: opts.fileLocks,
    externalUnixSockets: opts.externalUnixSockets,
    shellJob: opts.shellJob,
    preDump: opts.preDump,
    ...(parentPath ? { parentPath } : {}),
  });
}

/** Refuses a relative path or a directory that already holds something. */
async function prepareDir(dir: string): Promise<string> {
  if (typeof dir !== 'string' || !path.isAbsolute(dir)) {
    throw errors.invalidArgument(`Expected the checkpoint path to be absolute, got \`${String(dir)}\``, { field: 'path' });
  }
  const entries = await fs.readdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [] as string[];
    throw e;
  });
  if (entries.length > 0) throw errors.alreadyExists(`checkpoint path ${dir} is not empty`, { path: dir });
  await fs.mkdir(dir, { recursive: true });
  return dir;
}

/** Checkpoints the task (the caller holds its lock and checked it is running or paused). */
export async function checkpointTask(
  ctx: RuntimeContext,
  rec: TaskRecord,
  p: TaskPaths,
  target: string,
  opts: CheckpointOptions,
): Promise<CheckpointResult> {
  const dir = await prepareDir(target);
  const images = path.join(dir, CHECKPOINT_LAYOUT.images);
  const work = path.join(dir, CHECKPOINT_LAYOUT.work);
  const incremental = !!opts.preDump || !!opts.parentPath;
  const leaveRunning = !!opts.leaveRunning || !!opts.preDump;
  const parentPath = opts.parentPath ? await parentImages(opts.parentPath, images) : undefined;
  const freeze = !!opts.leaveRunning && !opts.preDump && (await ctx.runc.state(rec.info.containerId))?.status === 'running';
  await writeMarker(p.markersDir, 'checkpointing', { path: dir, leaveRunning, frozen: freeze });
  // A task left running is frozen from before the dump until its files are written, so CRIU's image
  // and the rootfs diff describe the same instant (a file it appends to has the size CRIU recorded).
  const d = { images, work, freeze, incremental, parentPath };
  const { dumpMs, createdAt } = await frozenDump(ctx, rec, p, dir, opts, d).catch(async (e: unknown) => {
    throw await exitedUnder(ctx, rec, e);
  });
  await afterDump(p, dir, leaveRunning);
  return { path: dir, criuLog: path.join(work, opts.preDump ? 'pre-dump.log' : 'dump.log'), dumpMs, leaveRunning, createdAt };
}

/** The dump and the image's files, with the task frozen around them when it is left running. */
async function frozenDump(
  ctx: RuntimeContext,
  rec: TaskRecord,
  p: TaskPaths,
  dir: string,
  opts: CheckpointOptions,
  d: { images: string; work: string; freeze: boolean; incremental: boolean; parentPath: string | undefined },
): Promise<{ dumpMs: number; createdAt: string }> {
  const { images, work, freeze, incremental, parentPath } = d;
  let dumpMs = 0;
  let createdAt = '';
  if (freeze) {
    // A freeze that failed left the task as it was: no marker may tell recovery to thaw it later.
    await ctx.runc.pause(rec.info.containerId).catch(async (e: unknown) => {
      await removeMarker(p.markersDir, 'checkpointing');
      throw e;
    });
  }
  // The spec copy does not depend on the dump (the task lock keeps it as it is): written while CRIU works.
  const specCopy = opts.preDump ? undefined : copySpec(rec, p, dir);
  specCopy?.catch(() => undefined); // awaited below, on both paths
  try {
    if (freeze) failpoint('checkpoint:frozen');
    const started = Date.now();
    await dump(ctx, rec, images, work, opts, parentPath);
    dumpMs = Date.now() - started;
    createdAt = new Date().toISOString();
    if (specCopy) await writeImageFiles(rec, p, dir, opts, createdAt, await specCopy);
  } catch (e) {
    await specCopy?.catch(() => undefined); // settled before the error goes out; the dump's error is the one to report
    await removeMarker(p.markersDir, 'checkpointing');
    if (incremental && hasCode(e)) {
      const err = e as StasisError;
      throw new StasisError('ERR_CHECKPOINT', `incremental checkpoint of task ${rec.info.id} failed: ${err.message}`, { ...err.details, incremental: true }, { cause: e });
    }
    throw e;
  } finally {
    if (freeze) await ctx.runc.resume(rec.info.containerId);
  }
  return { dumpMs, createdAt };
}

/**
 * A dump that failed because the task's init exited under it (CRIU finds a process gone, or runc
 * finds the container stopped) is a precondition failure like a checkpoint of a stopped task, not a
 * CRIU fault: a periodic checkpoint that meets the end of its job is no warning. Anything else, and
 * any failure of a task still running, is returned as it was.
 */
async function exitedUnder(ctx: RuntimeContext, rec: TaskRecord, e: unknown): Promise<unknown> {
  if (!hasCode(e) || (e as StasisError).code !== 'ERR_CHECKPOINT') return e;
  // A state that cannot be read says nothing about an exit: the dump's own error stands then.
  const status = await ctx.runc.state(rec.info.containerId).then((s) => s?.status ?? 'gone', () => 'unknown');
  if (status !== 'stopped' && status !== 'gone') return e;
  const err = e as StasisError;
  return new StasisError('ERR_FAILED_PRECONDITION', `task ${rec.info.id} exited during the checkpoint (${err.message})`, { ...err.details, exitedDuringDump: true }, { cause: e });
}

/** After a dump: the markers say what happened; a dump that ended the task waits for its recorded exit. */
async function afterDump(p: TaskPaths, dir: string, leaveRunning: boolean): Promise<void> {
  if (leaveRunning) return removeMarker(p.markersDir, 'checkpointing');
  await writeMarker(p.markersDir, 'checkpointed', { path: dir, leaveRunning: false });
  await removeMarker(p.markersDir, 'checkpointing');
  const ac = new AbortController();
  const t = setTimeout(() => ac.abort(), EXIT_AFTER_DUMP_MS);
  // The dump ended the task: its monitor records the exit soon; a late one is not an error here.
  await waitExit(p.runDir, ac.signal).catch(() => undefined);
  clearTimeout(t);
}

/**
 * runc wants --parent-path relative to the new image dir. Accepts a previous checkpoint directory
 * (its criu/ images are used) or an image dir itself, absolute or relative to the new image dir.
 */
async function parentImages(parent: string, images: string): Promise<string> {
  const abs = path.isAbsolute(parent) ? parent : path.resolve(images, parent);
  const nested = path.join(abs, CHECKPOINT_LAYOUT.images);
  const dir = (await fs.stat(nested).catch(() => undefined))?.isDirectory() ? nested : abs;
  if (!(await fs.stat(dir).catch(() => undefined))?.isDirectory()) {
    throw errors.invalidArgument(`Expected \`parentPath\` to be a previous checkpoint directory, got \`${parent}\``, { field: 'parentPath' });
  }
  return path.relative(images, dir);
}

/**
 * Writes the task's spec into the checkpoint as config.json; resolves to it. Like checkpoint.json
 * and CRIU's own images, not fsynced: what tells a checkpoint a machine crash tore from a whole
 * one is the store's manifest (fsynced at commit), whose digests a restore checks.
 */
async function copySpec(rec: TaskRecord, p: TaskPaths, dir: string): Promise<OciSpec> {
  const spec = ((await readJson(p.spec)) ?? rec.info.spec) as OciSpec;
  await writeJsonAtomic(path.join(dir, CHECKPOINT_LAYOUT.spec), spec);
  return spec;
}

/** After the dump: the rootfs diff when there is one, then checkpoint.json (last: the checkpoint is complete). */
async function writeImageFiles(rec: TaskRecord, p: TaskPaths, dir: string, opts: CheckpointOptions, createdAt: string, spec: OciSpec): Promise<void> {
  // No diff when not asked for, or when the upper layer holds only the mountpoints runc makes again.
  const mountpoints = ((spec.mounts ?? []) as OciMount[]).map((m) => m.destination);
  const hasRootfsDiff = opts.rootfsDiff !== false && !(await upperHoldsOnlyMountpoints({ upper: p.upper, lower: rec.lower ?? rec.rootfs, merged: p.rootfs }, mountpoints));
  if (hasRootfsDiff) await writeRootfsDiff(p.upper, path.join(dir, CHECKPOINT_LAYOUT.rootfsDiff));
  // `stdin` and `process` ride along beyond CheckpointMeta: a restore gives the process a stdin pipe
  // again, and its exec processes the job's environment and user.
  const meta: CheckpointMeta & { stdin: boolean; process?: TaskRecord['process'] } = {
    version: 1,
    taskId: rec.info.id,
    namespace: rec.info.namespace,
    rootfs: rec.rootfs,
    terminal: rec.terminal,
    leaveRunning: !!opts.leaveRunning,
    createdAt,
    hasRootfsDiff,
    limits: rec.limits,
    network: rec.network,
    annotations: rec.info.annotations,
    stdin: rec.stdin,
    ...(rec.process ? { process: rec.process } : {}),
  };
  await writeJsonAtomic(path.join(dir, CHECKPOINT_LAYOUT.meta), meta);
}
