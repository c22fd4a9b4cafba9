/**
 * Starting a container (or an exec process) under its own conmon. conmon double-forks; the
 * container's parent is the daemonised conmon, never Node. The pipe protocol (runtime-facts §1.2)
 * is src/os/pipe-launch.ts, run by the thread's spawn helper; the daemon's one JSON line on the
 * sync pipe, once `runc create|restore|exec` returned, is {"data": PID} or {"data": -1, "message":
 * "<runc stderr>"}.
 */
import fs from '../os/local-fs.js';
import path from 'node:path';
import { StasisError } from '../errors.js';
import { criuLogPath, readCriuError } from '../runc/criu-log.js';
import { lastErrorLine, oneLine } from '../runc/runtime-log.js';
import { conmonArgs, RUN_FILES, type LaunchOptions } from './conmon-args.js';
import { monitorAlive } from './exit-file.js';
import { launchWithPipes } from '../os/command.js';
import { killTree, readPidFile, readProcStat } from '../os/proc.js';

export type { LaunchOptions } from './conmon-args.js';

/** The container's (or exec process') host pid and the daemonised conmon's pid. */
export interface LaunchResult {
  pid: number;
  conmonPid: number;
}

/** How long to wait for conmon's sync line: `runc create`/`exec` are quick; a restore of a large image takes a while. */
const SYNC_TIMEOUT_MS = { create: 30_000, exec: 30_000, restore: 300_000 } as const;

/**
 * Spawns conmon for `o` and resolves once the container exists (created, restored and running, or
 * exec'd). After a plain create the caller still has to `runc start` it. Failures are ERR_RUNTIME
 * (ERR_CHECKPOINT for a restore) with runc's error line and, for CRIU, the restore.log path.
 */
export async function launchMonitor(o: LaunchOptions): Promise<LaunchResult> {
  await prepareRunDir(o);
  const argv = conmonArgs(o);
  const startedAt = Date.now();
  const verb = o.exec ? 'exec' : o.restoreFrom ? 'restore' : 'create';
  const fail = (line: string, extra: Record<string, unknown> = {}): StasisError =>
    new StasisError(o.restoreFrom && !o.exec ? 'ERR_CHECKPOINT' : 'ERR_RUNTIME', `runc ${verb} ${o.containerId}: ${oneLine(line)}`, {
      runtimeError: line,
      argv: [o.conmon, ...argv],
      ...extra,
    });

  const r = await launchWithPipes({ file: o.conmon, args: argv, env: o.env ?? {}, cwd: o.runDir, syncTimeoutMs: SYNC_TIMEOUT_MS[verb] }, o.onSpawn, o.standby);
  if (r.error) throw new StasisError('ERR_UNAVAILABLE', `cannot run ${o.conmon}: ${r.error}`, { argv: [o.conmon, ...argv] });
  if (r.exitCode !== 0) {
    throw fail(lastErrorLine(r.output) ?? `conmon exited with ${r.exitCode ?? r.signal} before the container was created`, { exitCode: r.exitCode ?? -1 });
  }
  if (r.syncTimedOut) {
    // conmon (and the runc it runs) never reported: kill them, so nothing outlives this failure.
    await killMonitor(o.runDir);
    throw fail(`conmon did not report within ${SYNC_TIMEOUT_MS[verb]} ms (conmon and runc ${verb} were killed)`);
  }
  if (r.syncLine === null) throw fail(lastErrorLine(r.output) ?? 'conmon exited without reporting the container pid');
  const msg = parseSync(r.syncLine);
  if (msg.data < 0 || !Number.isInteger(msg.data)) {
    const text = msg.message ?? r.syncLine;
    const runtimeError = lastErrorLine(text) ?? text;
    const criuLog = criuLogPath(text) ?? criuLogPath(runtimeError) ?? (o.restoreFrom && !o.exec ? await freshFile(path.join(o.bundle, 'restore.log'), startedAt) : undefined);
    const criuError = criuLog ? await readCriuError(criuLog) : undefined;
    const e = fail(runtimeError, { exitCode: msg.data, ...(criuLog ? { criuLog, ...(criuError ? { criuError } : {}) } : {}), conmonMessage: text });
    if (criuError) e.message += `; CRIU: ${criuError}`;
    throw e;
  }
  const conmonPid = await readPid(path.join(o.runDir, RUN_FILES.conmonPid));
  return { pid: msg.data, conmonPid };
}

/** Refuses a run dir whose monitor is alive; removes a previous run's exit records and pid files. */
async function prepareRunDir(o: LaunchOptions): Promise<void> {
  if (await monitorAlive(o.runDir)) {
    throw new StasisError('ERR_ALREADY_EXISTS', `a monitor is already running for ${o.runDir}`, { runDir: o.runDir });
  }
  await fs.mkdir(path.join(o.runDir, RUN_FILES.exitDir), { recursive: true });
  const stale = [RUN_FILES.exit, RUN_FILES.oom, RUN_FILES.pidfile, RUN_FILES.conmonPid, path.join(RUN_FILES.exitDir, o.containerId)];
  await Promise.all(stale.map((f) => fs.rm(path.join(o.runDir, f), { force: true })));
}

interface SyncMessage {
  data: number;
  message?: string;
}

function parseSync(line: string): SyncMessage {
  try {
    const v = JSON.parse(line) as { data?: unknown; message?: unknown };
    return { data: typeof v.data === 'number' ? v.data : -1, ...(typeof v.message === 'string' ? { message: v.message } : {}) };
  } catch {
    return { data: -1, message: `unreadable sync message from conmon: ${line}` };
  }
}

/** `file` when it exists and was written since `since` (ms), else undefined. */
async function freshFile(file: string, since: number): Promise<string | undefined> {
  const st = await fs.stat(file).catch(() => null);
  return st && st.mtimeMs >= since - 1000 ? file : undefined;
}

/** Reads a pid file (conmon writes it without a newline); ERR_INTERNAL when it holds none. */
export async function readPid(file: string): Promise<number> {
  const n = await readPidFile(file);
  if (n === null) throw new StasisError('ERR_INTERNAL', `no pid in ${file}`);
  return n;
}

/** SIGKILLs the monitor of `runDir` and everything under it (its `runc create`/`runc init`). */
export async function killMonitor(runDir: string): Promise<void> {
  const pid = await readPidFile(path.join(runDir, RUN_FILES.conmonPid));
  if (pid !== null && (await readProcStat(pid))?.comm === 'conmon') await killTree(pid);
}
