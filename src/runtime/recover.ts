/**
 * TaskManager.recover (runtime-facts §3.3): after a restart, walk every task dir and sort it out.
 *   exit file present                       → exited (its real ExitedAt is on disk)
 *   monitor alive, runc running/paused      → running
 *   runc created + monitor dead             → half-launched: cleaned
 *   dir without record or container, dead   → half-launched: cleaned
 *   monitor dead, no exit, container there  → lost (exit status unknowable)
 *   stopped with a 'deleting' marker        → a delete cut short by a crash: finished, cleaned
 *   paused by a checkpoint's freeze         → a leave-running checkpoint cut short: thawed, running
 *   restored, memory check not finished     → never handed out: cleaned
 * Tasks whose lock is held by a live process (being created right now) are left alone.
 */
import fs from 'node:fs/promises';
import { errors } from '../errors.js';
import { taskLockFile, type RuntimeContext } from './context.js';
import { removeEmptyCgroupParents } from './cgroups.js';
import { undoLaunch } from './create.js';
import { containerIdFor, ID_PATTERN } from './ids.js';
import { taskPaths } from './layout.js';
import { lockHeld, withLock } from './lock.js';
import { readMarker, readTaskRecord, removeMarker } from './records.js';
import { observeTask } from './task-facts.js';
import type { RecoveryReport } from './task.js';

/** Lists `dir`'s subdirectories (or symlinks to one: adopted prepared sandboxes) that look like ids. */
export async function idDirs(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => (e.isDirectory() || e.isSymbolicLink()) && ID_PATTERN.test(e.name)).map((e) => e.name).sort();
}

/** Scans every namespace of the state dir; see the module comment for what happens to each task. */
export async function recoverTasks(ctx: RuntimeContext): Promise<RecoveryReport> {
  const report: RecoveryReport = { running: [], exited: [], cleaned: [], lost: [] };
  for (const namespace of await idDirs(ctx.paths.tasksDir)) {
    for (const id of await idDirs(`${ctx.paths.tasksDir}/${namespace}`)) {
      const lock = taskLockFile(ctx, namespace, id);
      if (await lockHeld(lock)) continue;
      const name = namespace === 'default' ? id : `${namespace}/${id}`;
      const outcome = await withLock(lock, () => recoverOne(ctx, namespace, id), 5_000).catch(() => undefined);
      if (outcome) report[outcome].push(name);
    }
  }
  await removeEmptyCgroupParents(ctx.paths.stateDir);
  return report;
}

async function recoverOne(ctx: RuntimeContext, namespace: string, id: string): Promise<keyof RecoveryReport | undefined> {
  const p = taskPaths(ctx.paths.tasksDir, namespace, id);
  const rec = await readTaskRecord(p.record).catch(() => undefined);
  if (!rec) {
    const cid = containerIdFor(namespace, id);
    const st = await ctx.runc.state(cid);
    if (st && st.status !== 'created' && st.status !== 'stopped') {
      throw errors.internal(`task dir ${p.dir} has no record but container ${cid} is ${st.status}`);
    }
    await undoLaunch(ctx, cid, p);
    return 'cleaned';
  }
  const o = await observeTask(ctx, rec, p);
  // A delete interrupted by a crash: finish it (it had already passed the status checks). A restore
  // whose memory was still being checked when the node died: it was never handed out; discard it.
  const unverified = (await readMarker(p.markersDir, 'verifying')) !== undefined;
  if (o.halfLaunched || unverified || ((await readMarker(p.markersDir, 'deleting')) && o.status === 'stopped')) {
    await undoLaunch(ctx, rec.info.containerId, p);
    return 'cleaned';
  }
  // A pause interrupted by a crash leaves its marker behind; nobody holds the lock now.
  if ((await readMarker(p.markersDir, 'pausing')) && o.runcState?.status !== 'running') await removeMarker(p.markersDir, 'pausing');
  // A leave-running checkpoint froze the container and the node died before thawing it: nobody
  // else paused it (the task lock was held), so resume it; the half-written checkpoint is the store's to drop.
  const ck = await readMarker(p.markersDir, 'checkpointing');
  if (ck?.frozen && !o.lost && o.runcState?.status === 'paused') {
    await ctx.runc.resume(rec.info.containerId);
    await removeMarker(p.markersDir, 'checkpointing');
    return 'running';
  }
  if (o.lost) return 'lost';
  switch (o.status) {
    case 'running':
    case 'pausing':
    case 'paused':
      return 'running';
    case 'stopped':
      return 'exited';
    case 'created':
    case 'deleted':
      return undefined;
  }
}
