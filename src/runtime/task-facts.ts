/** Gathers the facts a task's status is derived from (observe.ts) and derives it. */
import path from 'node:path';
import { monitorAlive, readExit } from '../monitor/exit-file.js';
import type { RuncState } from '../runc/runc.js';
import { CHECKPOINT_LAYOUT } from '../checkpoint/layout.js';
import type { RuntimeContext } from './context.js';
import type { TaskPaths } from './layout.js';
import { deriveStatus, type Derived, type ExitFacts } from './observe.js';
import { exists, markersPresent, readMarker, writeMarker, type TaskRecord } from './records.js';

/** Derived status plus the runc state it came from. */
export interface TaskObservation extends Derived {
  runcState: RuncState | null;
  monitorAlive: boolean;
  pid: number;
}

/** True when a checkpoint marker names an image that has CRIU's inventory.img. */
export async function checkpointImagePresent(p: TaskPaths): Promise<boolean> {
  const m = (await readMarker(p.markersDir, 'checkpointed')) ?? (await readMarker(p.markersDir, 'checkpointing'));
  if (!m?.path || m.leaveRunning) return false;
  return exists(path.join(m.path, CHECKPOINT_LAYOUT.images, 'inventory.img'));
}

/** The reads observeTask makes (injectable so the order of the racy ones is unit-tested). */
export interface ObserveProbes {
  runcState(containerId: string): Promise<RuncState | null>;
  monitorAlive(runDir: string): Promise<boolean>;
  readExit(runDir: string): Promise<ExitFacts | null>;
}

/** The probes over runc and conmon's files. */
export function defaultProbes(ctx: RuntimeContext): ObserveProbes {
  return { runcState: (id) => ctx.runc.state(id), monitorAlive, readExit };
}

/**
 * Observes a task. Order matters: runc state first, then whether the monitor is alive, then the exit
 * file. conmon writes the exit file before it exits, so an exit file read AFTER the monitor was seen
 * dead is final: a monitor that exits between the reads cannot make a finished task look lost, and
 * a container that exits after runc state is seen as stopped rather than as vanished. A lost monitor
 * is recorded once in a 'lost' marker so every later observer reports the same ExitedAt.
 */
export async function observeTask(
  ctx: RuntimeContext,
  rec: TaskRecord,
  p: TaskPaths,
  probes: ObserveProbes = defaultProbes(ctx),
): Promise<TaskObservation> {
  const runcState = await probes.runcState(rec.info.containerId);
  const alive = await probes.monitorAlive(p.runDir);
  // One listing of the markers dir, then only the markers it has (most tasks have none).
  const markers = await markersPresent(p.markersDir);
  const [exit, pausing, checkpointImage, lost] = await Promise.all([
    probes.readExit(p.runDir),
    markers.has('pausing') ? readMarker(p.markersDir, 'pausing') : undefined,
    markers.has('checkpointed') || markers.has('checkpointing') ? checkpointImagePresent(p) : false,
    markers.has('lost') ? readMarker(p.markersDir, 'lost') : undefined,
  ]);
  const pid = runcState && runcState.pid > 0 ? runcState.pid : (rec.pid ?? 0);
  const d = deriveStatus({
    exit,
    runc: runcState?.status ?? null,
    monitorAlive: alive,
    pid,
    started: rec.startedAt !== undefined,
    pausing: pausing !== undefined && runcState?.status === 'running',
    checkpointImage,
    ...(lost?.exitedAt ? { lostAt: lost.exitedAt } : {}),
  });
  if (d.lost && !d.halfLaunched && !lost && d.exit) {
    await writeMarker(p.markersDir, 'lost', { exitedAt: d.exit.exitedAt }).catch(() => undefined);
  }
  return { ...d, runcState, monitorAlive: alive, pid };
}
