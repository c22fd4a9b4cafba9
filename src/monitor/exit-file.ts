/**
 * Reading what conmon recorded about an exit: RUNDIR/exit holds the status ("42", "137", or "-1"
 * after its own -T timeout), the file's mtime is ExitedAt, and RUNDIR/oom exists after an OOM kill.
 * These files outlive both the container and any Node process, so a restarted runner reads them.
 */
import fs from 'node:fs';
import path from 'node:path';
import local from '../os/local-fs.js';
import { StasisError } from '../errors.js';
import { RUN_FILES } from './conmon-args.js';
import { isExitedState, readPidFile, readProcStat } from '../os/proc.js';

/** An exit as conmon recorded it. */
export interface MonitorExit {
  /** Exit code, or 128 + signal number; 137 for a conmon timeout. */
  status: number;
  /** mtime of the exit file (ISO 8601). */
  exitedAt: string;
  /** conmon saw an OOM kill (RUNDIR/oom exists). */
  oom: boolean;
  /** conmon's -T timeout killed the container (the file held -1). */
  timedOut: boolean;
}

/** The recorded exit in `runDir`, or null when there is none (yet). */
export async function readExit(runDir: string): Promise<MonitorExit | null> {
  const file = path.join(runDir, RUN_FILES.exit);
  let text: string;
  let st: fs.Stats;
  try {
    [text, st] = await Promise.all([local.readFile(file, 'utf8'), local.stat(file)]);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const raw = text.trim();
  if (raw === '') return null; // being written; conmon fills it in one write
  const n = parseInt(raw, 10);
  if (!Number.isInteger(n)) throw new StasisError('ERR_INTERNAL', `unreadable exit file ${file}: ${JSON.stringify(raw)}`);
  const oom = await exists(path.join(runDir, RUN_FILES.oom));
  const timedOut = n === -1;
  return { status: timedOut ? 137 : n, exitedAt: st.mtime.toISOString(), oom, timedOut };
}

/** Options of waitExit. */
export interface WaitExitOptions {
  /** Slow poll interval behind fs.watch (default 1000 ms). */
  pollMs?: number;
  /**
   * Reject with ERR_UNAVAILABLE (details.monitorLost = true) when conmon.pid names a dead monitor
   * and no exit file appeared (default true). Its exit code is then unrecoverable.
   */
  detectLostMonitor?: boolean;
}

/**
 * Resolves with the exit once conmon records it. Uses inotify on `runDir` plus a slow poll.
 * Rejects with ERR_UNAVAILABLE when `signal` aborts or the monitor died without writing an exit.
 */
export function waitExit(runDir: string, signal?: AbortSignal, o: WaitExitOptions = {}): Promise<MonitorExit> {
  return new Promise<MonitorExit>((resolve, reject) => {
    let settled = false;
    let watcher: fs.FSWatcher | undefined;
    let checking = false;
    let again = false;
    const finish = (e: StasisError | null, v?: MonitorExit) => {
      if (settled) return;
      settled = true;
      clearInterval(timer);
      watcher?.close();
      signal?.removeEventListener('abort', onAbort);
      if (e) reject(e);
      else resolve(v!);
    };
    const check = async (poll: boolean): Promise<void> => {
      if (checking) return void (again = true);
      checking = true;
      try {
        const x = await readExit(runDir);
        if (x) return finish(null, x);
        if (poll && o.detectLostMonitor !== false && (await monitorDead(runDir))) {
          const late = await readExit(runDir);
          if (late) return finish(null, late);
          finish(new StasisError('ERR_UNAVAILABLE', `the monitor of ${runDir} died without recording an exit`, { monitorLost: true }));
        }
      } catch (e) {
        finish(e instanceof StasisError ? e : new StasisError('ERR_INTERNAL', String(e)));
      } finally {
        checking = false;
        if (again && !settled) {
          again = false;
          void check(false);
        }
      }
    };
    const onAbort = () => finish(new StasisError('ERR_UNAVAILABLE', `wait for the exit in ${runDir} was aborted`, { aborted: true }));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      watcher = fs.watch(runDir, { persistent: true }, (_ev, name) => {
        if (!name || name === RUN_FILES.exit) void check(false);
      });
      watcher.on('error', () => watcher?.close());
    } catch {
      watcher = undefined; // dir missing or inotify exhausted: the poll still works
    }
    const timer = setInterval(() => void check(true), o.pollMs ?? 1000);
    void check(true);
  });
}

/** True when conmon for `runDir` is alive: the pid in conmon.pid exists, is not a zombie, and is conmon. */
export async function monitorAlive(runDir: string): Promise<boolean> {
  return (await liveMonitorPid(runDir)) !== null;
}

/** The pid of the live conmon of `runDir` (as monitorAlive checks it), or null. */
export async function liveMonitorPid(runDir: string): Promise<number | null> {
  const pid = await readPidFile(path.join(runDir, RUN_FILES.conmonPid));
  return pid !== null && (await pidIsConmon(pid)) ? pid : null;
}

/** Dead means: conmon.pid exists and names no live conmon. A missing pid file is not (yet) dead. */
async function monitorDead(runDir: string): Promise<boolean> {
  const pid = await readPidFile(path.join(runDir, RUN_FILES.conmonPid));
  return pid !== null && !(await pidIsConmon(pid));
}

async function pidIsConmon(pid: number): Promise<boolean> {
  const st = await readProcStat(pid);
  return st !== undefined && st.comm === 'conmon' && !isExitedState(st.state);
}

async function exists(p: string): Promise<boolean> {
  return local.access(p).then(() => true, () => false);
}
