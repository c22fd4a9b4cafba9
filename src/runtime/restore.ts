/**
 * TaskManager.restore: a new task from a checkpoint directory (CHECKPOINT_LAYOUT). The rootfs diff
 * is applied into a fresh upper BEFORE the overlay is mounted, config.json comes from the image with
 * cgroupsPath and annotations rewritten for the new id, and conmon runs `runc restore` (status
 * 'running' at once, no start): one kept ready by the manager (warm/ready-restores.ts; the task dir
 * is then a symlink to its slot), else one started now (restore-launch.ts). Restoring into an existing id replaces that task if it is stopped
 * (exited or checkpointed). A failed restore leaves nothing behind except a copy of CRIU's restore.log.
 * A restore with a `release` keeps a 'verifying' marker until it resolves (a crash meanwhile: discarded).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { checkMapping, restoredSpec } from './restore-spec.js';
import { GateRefusal, launchIntoReady, launchRestore, type RestorePlan } from './restore-launch.js';
import type { OciSpec } from '../sandbox/types.js';
import { errors, hasCode, StasisError } from '../errors.js';
import { taskLockFile, type MonitorKind, type ReadyRestore, type RuntimeContext } from './context.js';
import { checkRootfs, claimTaskDir, taskInfo, undoLaunch } from './create.js';
import { validateId } from './ids.js';
import { removeTaskDir } from './init-ops.js';
import { TaskProcess } from './init-process.js';
import { failuresDir, taskPaths, type TaskPaths } from './layout.js';
import { withLock } from './lock.js';
import { exists, readJson, readTaskRecord, removeMarker, type TaskRecord } from './records.js';
import { CHECKPOINT_LAYOUT } from '../checkpoint/layout.js';
import { DEFAULT_NAMESPACE, type CheckpointMeta, type RestoreTaskOptions, type Task } from './task.js';
import { linkTaskToSlot } from './warm/slots.js';

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

/** The restored task's record (before its monitor runs); a ready monitor names the container and has no -T. */
function restoredRecord(ctx: RuntimeContext, r: RestorePlan, p: TaskPaths, ready: ReadyRestore | undefined): TaskRecord {
  const meta = r.meta as CheckpointMeta & { process?: TaskRecord['process']; stdin?: unknown };
  const info = { ...taskInfo(ctx, r, p), restoredFrom: path.resolve(r.o.from) };
  return {
    version: 1,
    info: ready ? { ...info, containerId: ready.containerId } : info,
    rootfs: r.rootfs,
    ...(meta.process ? { process: meta.process } : {}),
    limits: meta.limits,
    network: meta.network,
    terminal: meta.terminal,
    stdin: meta.stdin === true,
    ...(r.o.timeoutSeconds !== undefined && !ready ? { timeoutSeconds: r.o.timeoutSeconds } : {}),
  };
}

/**
 * A ready monitor of `kind` with its slot claimed for the task (as recovery reads a claim), or
 * undefined. One whose slot was claimed already (another manager's recovery removing it) is let go.
 */
async function takeReady(ctx: RuntimeContext, kind: MonitorKind, namespace: string, id: string): Promise<ReadyRestore | undefined> {
  const ready = ctx.readyRestores?.take(kind);
  if (!ready || (await ready.claim(`${namespace}/${id}`))) return ready;
  await ctx.readyRestores?.drop(ready);
  return undefined;
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
  const kind = { terminal: meta.terminal, stdin: (meta as { stdin?: unknown }).stdin === true };
  // Whether it took a ready monitor or not, one of its kind is made ready for the next restore.
  return withLock(taskLockFile(ctx, namespace, id), async () => {
    await replaceStopped(ctx, taskPaths(ctx.paths.tasksDir, namespace, id), o.from);
    const ready = await takeReady(ctx, kind, namespace, id);
    const p = await (ready ? linkTaskToSlot(ctx, namespace, id, ready) : claimTaskDir(ctx, namespace, id)).catch(async (e: unknown) => {
      if (ready) await ctx.readyRestores?.drop(ready);
      throw e;
    });
    const rec = restoredRecord(ctx, plan, p, ready);
    try {
      await (ready ? launchIntoReady(ctx, plan, p, rec, ready) : launchRestore(ctx, plan, p, rec));
      if (o.release) {
        const release = typeof o.release === 'function' ? o.release() : o.release;
        await release.catch((e: unknown) => Promise.reject(new GateRefusal(e)));
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
  }).finally(() => ctx.readyRestores?.refill(kind));
}
