/**
 * Handing one claimed prepared sandbox to a task: check its container is `created` under a live
 * conmon, make tasks/<ns>/<id> a symlink to it, write the job's launch script into the slot's
 * node-owned job dir (never into its rootfs) and the task record (containerId = the slot's).
 */
import fs from '../../os/local-fs.js';
import { liveMonitorPid } from '../../monitor/exit-file.js';
import type { OciSpec } from '../../sandbox/types.js';
import { RUNTIME_NAME, type RuntimeContext } from '../context.js';
import { TaskProcess } from '../init-process.js';
import { writeJsonAtomic, type TaskRecord } from '../records.js';
import type { CreateTaskOptions, Task } from '../task.js';
import { writeJob } from '../task-fs.js';
import { unniceForJob } from './priority.js';
import { discardSlot, linkTaskToSlot, releaseSlot, type PreparedRecord, type Slot } from './slots.js';

/**
 * How a task that could use a prepared sandbox started: it adopted a ready one ('hit'), one being
 * prepared when it came ('waited'), or none ('miss': created its own).
 */
export type WarmUse = 'hit' | 'waited' | 'miss';

/** What createTask hands to adopt(). */
export interface AdoptInput {
  namespace: string;
  id: string;
  rootfs: string;
  /** The task's own spec (real argv/env/cwd), as createTask built it. */
  spec: OciSpec;
}

/**
 * Adopts `slot`, which the caller claimed and whose container `prepared` says is created (`waited`:
 * the task waited for its preparation): a Task, null when the slot is no good (it is discarded; try
 * the next), undefined when the task must take the normal path.
 */
export async function adoptClaimed(ctx: RuntimeContext, slot: Slot, prepared: PreparedRecord, o: CreateTaskOptions, a: AdoptInput, waited = false): Promise<Task | undefined | null> {
  // A container runc cannot report on is no good to adopt: the slot is discarded below.
  const st = await ctx.runc.state(prepared.containerId).catch(() => null);
  const conmonPid = st?.status === 'created' ? await liveMonitorPid(slot.paths.runDir) : null;
  if (conmonPid === null) {
    void discardSlot(ctx, slot, prepared.containerId);
    return null;
  }
  unniceForJob([prepared.pid, conmonPid]);
  const p = await linkTaskToSlot(ctx, a.namespace, a.id, { dir: slot.dir, release: () => releaseSlot(slot) });
  try {
    const proc = o.process;
    const terminal = prepared.template.terminal === true;
    const job = { args: proc.args, ...(proc.env ? { env: proc.env } : {}), ...(proc.cwd ? { cwd: proc.cwd } : {}), terminal, ...(o.cpuSeconds !== undefined ? { cpuSeconds: o.cpuSeconds } : {}) };
    await writeJob(ctx, p, job, proc.user);
    const linux = (prepared.spec.linux ?? {}) as Record<string, unknown>;
    const rec: TaskRecord = {
      version: 1,
      info: {
        id: a.id,
        namespace: a.namespace,
        runtime: { name: RUNTIME_NAME, path: ctx.config.runc },
        spec: { ...prepared.spec, annotations: { ...(a.spec.annotations ?? {}) }, linux },
        bundle: p.bundle,
        containerId: prepared.containerId,
        createdAt: new Date().toISOString(),
        annotations: { ...(o.annotations ?? {}) },
      },
      rootfs: a.rootfs,
      ...(prepared.lower ? { lower: prepared.lower } : {}),
      process: { ...proc },
      limits: { ...(o.limits ?? {}) },
      network: o.network ?? 'none',
      terminal,
      stdin: prepared.template.stdin === true,
      ...(prepared.template.logMaxBytes !== undefined ? { logMaxBytes: prepared.template.logMaxBytes } : {}),
      pid: prepared.pid,
      prepared: { slot: slot.dir, preparedAt: prepared.createdAt, ...(waited ? { waited: true as const } : {}) },
    };
    await writeJsonAtomic(p.record, rec);
    return TaskProcess.created(ctx, rec, p);
  } catch {
    await fs.rm(p.dir, { force: true });
    void discardSlot(ctx, slot, prepared.containerId);
    return undefined;
  }
}
