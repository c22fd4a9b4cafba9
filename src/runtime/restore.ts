/**
 * TaskManager.restore: a new task from a checkpoint directory (CHECKPOINT_LAYOUT). The rootfs diff
 * is applied into a fresh upper BEFORE the overlay is mounted, config.json comes from the image with
 * cgroupsPath and annotations rewritten for the new id, and conmon runs `runc restore` (status
 * 'running' at once, no start). Restoring into an existing id replaces that task if it is stopped
 * (exited or checkpointed). A failed restore leaves nothing behind except a copy of CRIU's restore.log.
 * A restore with a `release` keeps a 'verifying' marker until it resolves (a crash meanwhile: discarded).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { allSettledOrThrow } from '../os/all-settled.js';
import { z } from 'zod';
import { launchMonitor } from '../monitor/launch.js';
import { checkMapping, restoredSpec } from './restore-spec.js';
import { monitorOptions } from './monitor-options.js';
import { applyRootfsDiff, mountOverlay } from '../sandbox/rootfs.js';
import { mountWritableLayer } from '../sandbox/writable.js';
import { DEFAULT_DISK_BYTES, emptyJobDir, hostIds, lowerFor, traversable } from './task-fs.js';
import type { OciSpec } from '../sandbox/types.js';
import { errors, hasCode, StasisError } from '../errors.js';
import { taskLockFile, type RuntimeContext } from './context.js';
import { checkRootfs, claimTaskDir, taskInfo, undoLaunch } from './create.js';
import { validateId } from './ids.js';
import { removeTaskDir } from './init-ops.js';
import { TaskProcess } from './init-process.js';
import { failuresDir, taskPaths, type TaskPaths } from './layout.js';
import { withLock } from './lock.js';
import { exists, readJson, readTaskRecord, removeMarker, writeJsonAtomic, writeMarker, type TaskRecord } from './records.js';
import { CHECKPOINT_LAYOUT } from '../checkpoint/layout.js';
import { DEFAULT_NAMESPACE, type CheckpointMeta, type RestoreTaskOptions, type Task } from './task.js';

const MetaShape = z
  .object({
    version: z.literal(1),
    taskId: z.string(),
    namespace: z.string(),
    rootfs: z.string(),
    terminal: z.boolean(),
    hasRootfsDiff: z.boolean(),
    limits: z.record(z.unknown()),
    network: z.enum(['none', 'host']),
    annotations: z.record(z.string()),
  })
  .passthrough();

/** Reads and checks a checkpoint directory; ERR_INVALID_ARGUMENT when it is not a complete one. */
export async function readCheckpoint(from: string): Promise<{ meta: CheckpointMeta; spec: OciSpec }> {
  if (typeof from !== 'string' || !path.isAbsolute(from)) {
    throw errors.invalidArgument(`Expected \`from\` to be an absolute checkpoint path, got \`${String(from)}\``, { field: 'from' });
  }
  const bad = (why: string) => errors.invalidArgument(`${from} is not a usable checkpoint: ${why}`, { field: 'from', path: from });
  const rawMeta = await readJson(path.join(from, CHECKPOINT_LAYOUT.meta)).catch(() => {
    throw bad(`${CHECKPOINT_LAYOUT.meta} is not valid JSON`);
  });
  if (rawMeta === undefined) throw bad(`${CHECKPOINT_LAYOUT.meta} is missing`);
  const m = MetaShape.safeParse(rawMeta);
  if (!m.success) throw bad(`${CHECKPOINT_LAYOUT.meta}: ${m.error.issues[0]?.path.join('.')} ${m.error.issues[0]?.message}`);
  if (!(await exists(path.join(from, CHECKPOINT_LAYOUT.images, 'inventory.img')))) throw bad('the CRIU image has no inventory.img');
  const spec = (await readJson(path.join(from, CHECKPOINT_LAYOUT.spec)).catch(() => undefined)) as OciSpec | undefined;
  if (!spec || typeof spec !== 'object' || !spec.process) throw bad(`${CHECKPOINT_LAYOUT.spec} is missing or invalid`);
  const meta = rawMeta as CheckpointMeta;
  if (meta.hasRootfsDiff && !(await exists(path.join(from, CHECKPOINT_LAYOUT.rootfsDiff)))) throw bad(`${CHECKPOINT_LAYOUT.rootfsDiff} is missing`);
  return { meta, spec };
}

/** Removes a stopped task that occupies the id a restore wants (the caller holds its lock). */
async function replaceStopped(ctx: RuntimeContext, p: TaskPaths, from: string): Promise<void> {
  const rec = await readTaskRecord(p.record).catch(() => undefined);
  if (!(await exists(p.dir))) return;
  if (path.resolve(from).startsWith(p.dir + path.sep)) {
    throw errors.invalidArgument(`cannot restore into task ${path.basename(p.dir)} from ${from}: the checkpoint lives inside that task's directory`, { field: 'from' });
  }
  if (rec) {
    const task = new TaskProcess(ctx, rec, p);
    const st = await task.state();
    if (st.status !== 'stopped') {
      throw errors.alreadyExists(`task ${rec.info.id} exists and is ${st.status}; delete or checkpoint it before restoring into its id`);
    }
  }
  // Same steps as delete(), inline because we already hold the lock.
  await ctx.runc.delete(rec?.info.containerId ?? '', true).catch(() => undefined);
  await removeTaskDir(p);
}

/** Keeps CRIU's restore.log of a failed restore before its bundle is removed; returns the copy's path. */
async function keepRestoreLog(ctx: RuntimeContext, p: TaskPaths, namespace: string, id: string): Promise<string | undefined> {
  const src = path.join(p.bundle, 'restore.log');
  if (!(await exists(src))) return undefined;
  const dst = path.join(failuresDir(ctx.paths.stateDir), `${namespace}+${id}-${Date.now()}-restore.log`);
  await fs.mkdir(path.dirname(dst), { recursive: true });
  await fs.copyFile(src, dst).catch(() => undefined);
  return (await exists(dst)) ? dst : undefined;
}

/** What a restore starts from: the checked options and the checkpoint's own files. */
interface RestorePlan {
  o: RestoreTaskOptions;
  namespace: string;
  id: string;
  rootfs: string;
  meta: CheckpointMeta;
  spec: OciSpec;
  annotations: Record<string, string>;
}

/** The restored task's record (before its monitor runs). */
function restoredRecord(ctx: RuntimeContext, r: RestorePlan, p: TaskPaths): TaskRecord {
  const meta = r.meta as CheckpointMeta & { process?: TaskRecord['process']; stdin?: unknown };
  return {
    version: 1,
    info: { ...taskInfo(ctx, r, p), restoredFrom: path.resolve(r.o.from) },
    rootfs: r.rootfs,
    ...(meta.process ? { process: meta.process } : {}),
    limits: meta.limits,
    network: meta.network,
    terminal: meta.terminal,
    stdin: meta.stdin === true,
    ...(r.o.timeoutSeconds !== undefined ? { timeoutSeconds: r.o.timeoutSeconds } : {}),
  };
}

/** Lays out the task dir and mounts its layers (the checkpoint's rootfs diff applied); resolves once CRIU may run (the gate passed). */
async function prepareRestore(ctx: RuntimeContext, r: RestorePlan, p: TaskPaths, rec: TaskRecord): Promise<void> {
  await traversable(p.dir);
  // The task dir was just claimed under the node's state dir: nothing of a job is on these paths yet.
  // Independent steps side by side (a restore's downtime is the sum of what stays serial).
  const [lower] = await allSettledOrThrow([
    lowerFor(ctx, r.rootfs, r.o.rootfsMapped),
    fs.mkdir(p.bundle, { recursive: true, mode: 0o711 }).then(() => writeJsonAtomic(p.spec, r.spec)),
    emptyJobDir(p),
    // Until the release resolves, the restored memory is unchecked: a crash in between must not leave
    // a task that recovery would adopt (recover.ts discards a task with this marker).
    r.o.release ? writeMarker(p.markersDir, 'verifying', { path: path.resolve(r.o.from) }) : Promise.resolve(),
    mountWritableLayer(p.layer, rec.limits.diskBytes ?? DEFAULT_DISK_BYTES, hostIds(ctx), { fresh: true }).then(async () => {
      if (r.meta.hasRootfsDiff) await applyRootfsDiff(path.join(r.o.from, CHECKPOINT_LAYOUT.rootfsDiff), p.upper);
    }),
  ]);
  rec.lower = lower;
  await mountOverlay({ lower, upper: p.upper, work: p.work, target: p.rootfs }, { fresh: true });
  await writeJsonAtomic(p.record, rec);
  if (r.o.gate) await r.o.gate.catch((e: unknown) => Promise.reject(new GateRefusal(e)));
}

/**
 * Prepares the task and has conmon run `runc restore`. conmon is spawned first and waits on its start
 * pipe while the task is prepared: its exec and start-up (~8 ms on the bench VMs, longer than the
 * preparation) are off the restore's critical path. It is let go once CRIU may run, or killed before
 * it does anything when the preparation failed.
 */
async function launchRestore(ctx: RuntimeContext, r: RestorePlan, p: TaskPaths, rec: TaskRecord): Promise<void> {
  await fs.mkdir(p.runDir, { recursive: true, mode: 0o700 });
  let go!: () => void;
  const prepared = new Promise<void>((resolve) => (go = resolve)).then(() => prepareRestore(ctx, r, p, rec));
  // For A/B runs of the bench: conmon only once the task is prepared.
  const prespawn = process.env.STASIS_RESTORE_PRESPAWN !== '0';
  if (!prespawn) {
    go();
    await prepared;
  }
  const monitor = launchMonitor(
    monitorOptions(ctx, {
      criu: ctx.config.criu,
      containerId: rec.info.containerId,
      bundle: p.bundle,
      runDir: p.runDir,
      terminal: rec.terminal,
      stdin: rec.stdin,
      restoreFrom: path.join(path.resolve(r.o.from), CHECKPOINT_LAYOUT.images),
      timeoutSeconds: rec.timeoutSeconds,
      onSpawn: (conmonPid) =>
        prepared.catch(() => {
          // Killed while it waits on the start pipe, before it forked or ran anything: the start byte
          // (or the pipe's EOF, which conmon takes as a start too) reaches no one.
          killPid(conmonPid);
        }),
    }),
  );
  // Awaited below, after the preparation: this only keeps a launch that fails first from going unhandled meanwhile.
  monitor.catch(() => undefined);
  if (prespawn) {
    // One turn of the event loop first: the monitor's spawn request is on its way to the spawn helper
    // before the preparation's synchronous steps (mkdirs, mount(2), small writes) hold this thread.
    await new Promise<void>((resolve) => setImmediate(resolve));
    go();
  }
  try {
    await prepared;
  } catch (e) {
    // conmon was killed (onSpawn above): its launch fails, and the preparation's error is the one that counts.
    await monitor.catch(() => undefined);
    throw e;
  }
  const { pid } = await monitor;
  rec.pid = pid;
  rec.startedAt = new Date().toISOString();
  await writeJsonAtomic(p.record, rec);
}

/** SIGKILLs `pid` (a child of this node's spawner, not yet reaped: the pid cannot have been reused). */
function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** The restore's gate or release refused: its error is thrown as it is, after the launch was undone. */
class GateRefusal {
  constructor(readonly cause: unknown) {}
}

/** A failed restore's error: ERR_CHECKPOINT for a runtime failure, naming the checkpoint and the kept restore.log. */
function restoreFailure(e: unknown, r: RestorePlan, kept: string | undefined): unknown {
  if (!hasCode(e)) return e;
  const err = e as StasisError;
  return new StasisError(
    err.code === 'ERR_RUNTIME' ? 'ERR_CHECKPOINT' : err.code,
    `restore of task ${r.id} from ${r.o.from} failed: ${err.message}${kept ? ` (CRIU's restore.log is kept at ${kept})` : ''}`,
    { ...err.details, ...(kept ? { criuLog: kept } : {}) },
    { cause: e },
  );
}

/** Restores a task from a checkpoint directory. */
export async function restoreTask(ctx: RuntimeContext, o: RestoreTaskOptions): Promise<Task> {
  if (typeof o !== 'object' || o === null) throw errors.invalidArgument('Expected restore options to be an object', { field: 'options' });
  const namespace = validateId(o.namespace ?? DEFAULT_NAMESPACE, 'namespace');
  const id = validateId(o.id, 'id');
  const { meta, spec: imageSpec } = await readCheckpoint(o.from);
  const rootfs = await checkRootfs(o.rootfs ?? meta.rootfs, 'rootfs');
  const annotations = { ...meta.annotations, ...(o.annotations ?? {}) };
  checkMapping(ctx, imageSpec, o.from);
  const plan: RestorePlan = { o, namespace, id, rootfs, meta, annotations, spec: restoredSpec(ctx, imageSpec, namespace, id, annotations, o.from) };
  return withLock(taskLockFile(ctx, namespace, id), async () => {
    await replaceStopped(ctx, taskPaths(ctx.paths.tasksDir, namespace, id), o.from);
    const p = await claimTaskDir(ctx, namespace, id);
    const rec = restoredRecord(ctx, plan, p);
    try {
      await launchRestore(ctx, plan, p, rec);
      if (o.release) {
        await o.release.catch((e: unknown) => Promise.reject(new GateRefusal(e)));
        await removeMarker(p.markersDir, 'verifying');
      }
    } catch (e) {
      if (e instanceof GateRefusal) {
        await undoLaunch(ctx, rec.info.containerId, p);
        throw e.cause;
      }
      const kept = await keepRestoreLog(ctx, p, namespace, id).catch(() => undefined);
      await undoLaunch(ctx, rec.info.containerId, p);
      throw restoreFailure(e, plan, kept);
    }
    return new TaskProcess(ctx, rec, p);
  });
}
