/**
 * Prepared sandboxes are made at a lower CPU priority than jobs: conmon, `runc create` and the
 * container's `runc init` of a slot run niced (inherited from conmon, set while it waits on its start
 * pipe), so on a busy node the refill behind every adoption does not slow the jobs running meanwhile.
 * Adoption gives the slot's conmon and container process the normal priority back before the job
 * starts. STASIS_PREPARE_NICE sets the nice value (0 turns it off; default 10).
 */
import os from 'node:os';

/** The nice value of a slot's processes while it is prepared. */
export function prepareNice(env: NodeJS.ProcessEnv = process.env): number {
  const v = Number(env.STASIS_PREPARE_NICE ?? 10);
  return Number.isInteger(v) && v >= 0 && v <= 19 ? v : 10;
}

/** Lowers `pid`'s priority for a slot's preparation (a process that is gone is no error). */
export function nicePreparation(pid: number, nice = prepareNice()): void {
  if (nice > 0) setNice(pid, nice);
}

/** Gives an adopted slot's processes the normal priority back. */
export function unniceForJob(pids: (number | undefined | null)[], nice = prepareNice()): void {
  if (nice > 0) for (const pid of pids) if (pid) setNice(pid, 0);
}

function setNice(pid: number, nice: number): void {
  try {
    os.setPriority(pid, nice);
  } catch {
    // Gone already (its slot then fails its state check or its start), or not allowed (a runner
    // without CAP_SYS_NICE cannot raise a priority again): the priority is a preference, never a failure.
  }
}
