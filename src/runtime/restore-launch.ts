/**
 * A restore's launch: the task dir laid out and its layers mounted (the checkpoint's rootfs diff
 * applied), then conmon running `runc restore`: one spawned now, or one kept ready
 * (warm/ready-restores.ts) that only needs its image path and its start byte.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { allSettledOrThrow } from '../os/all-settled.js';
import { killSpawned } from '../os/proc.js';
import { launchMonitor } from '../monitor/launch.js';
import { monitorOptions } from './monitor-options.js';
import { applyRootfsDiff, mountOverlay } from '../sandbox/rootfs.js';
import { mountWritableLayer } from '../sandbox/writable.js';
import { DEFAULT_DISK_BYTES, emptyJobDir, hostIds, lowerFor, traversable } from './task-fs.js';
import type { OciSpec } from '../sandbox/types.js';
import type { ReadyRestore, RuntimeContext } from './context.js';
import type { TaskPaths } from './layout.js';
import { writeJsonAtomic, writeMarker, type TaskRecord } from './records.js';
import { CHECKPOINT_LAYOUT } from '../checkpoint/layout.js';
import type { CheckpointMeta, RestoreTaskOptions } from './task.js';

/** What a restore starts from: the checked options and the checkpoint's own files. */
export interface RestorePlan {
  o: RestoreTaskOptions;
  namespace: string;
  id: string;
  rootfs: string;
  meta: CheckpointMeta;
  spec: OciSpec;
  annotations: Record<string, string>;
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
export async function launchRestore(ctx: RuntimeContext, r: RestorePlan, p: TaskPaths, rec: TaskRecord): Promise<void> {
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
          killSpawned(conmonPid);
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
  await recordLaunch(p, rec, (await monitor).pid);
}

/**
 * Has a ready monitor (warm/ready-restores.ts) run `runc restore` once the task is prepared: its
 * image path becomes a symlink to the checkpoint's images, and its start byte goes. It is killed when
 * the preparation failed.
 */
export async function launchIntoReady(ctx: RuntimeContext, r: RestorePlan, p: TaskPaths, rec: TaskRecord, ready: ReadyRestore): Promise<void> {
  try {
    await fs.symlink(path.join(path.resolve(r.o.from), CHECKPOINT_LAYOUT.images), ready.image);
    await prepareRestore(ctx, r, p, rec);
  } catch (e) {
    ready.abort();
    // Killed before it forked anything: its launch fails, and the preparation's error is the one that counts.
    await ready.launched.catch(() => undefined);
    throw e;
  }
  ready.start();
  await recordLaunch(p, rec, (await ready.launched).pid);
}

/** The record of a task whose `runc restore` returned: its pid and start time. */
async function recordLaunch(p: TaskPaths, rec: TaskRecord, pid: number): Promise<void> {
  rec.pid = pid;
  rec.startedAt = new Date().toISOString();
  await writeJsonAtomic(p.record, rec);
}

/** The restore's gate or release refused: its error is thrown as it is, after the launch was undone. */
export class GateRefusal {
  constructor(readonly cause: unknown) {}
}
