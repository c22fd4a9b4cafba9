/**
 * Supervision of one started task inside a worker thread: stream its logs over the port, enforce
 * the wall-clock timeout (TERM, grace, KILL; the monitor's -T is the backstop outside Node), obey
 * stop requests, sample usage, wait for the exit (inotify in the runtime, no polling), collect
 * capped output, keep the log, delete the task. The task is deleted on every path out.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { MessagePort } from 'node:worker_threads';
import type { Exit, LogEntry, Task } from '../../runtime/task.js';
import { readLog } from '../../monitor/log.js';
import { assertNever } from '../../errors.js';
import type { LifecycleOptions, RuntimeSettings, StopCause, StopReason, TaskControl, TaskEvent, TaskOutcome } from '../protocol.js';
import { OutputCollector } from './output.js';
import { maxUsage, readCgroupUsage, type CgroupUsage } from './cgroup-usage.js';
import { Checkpointer } from './checkpointing.js';

/** Log lines are sent over the port in batches at most this often. */
const LOG_BATCH_MS = 50;

/** A migrate/drain request (TaskControl 'preempt') not yet carried out. */
export interface PendingPreempt {
  reason: 'migrate' | 'drain';
  requestId: string;
}

/** Inputs of supervise(). */
export interface SuperviseInput {
  task: Task;
  port: MessagePort;
  options: LifecycleOptions;
  startedAt: string;
  /** Seconds left until the wall-clock timeout, if any. */
  timeoutSeconds?: number;
  /** The task's k8s-file log (runtime layout). */
  logFile: string;
  /** Directory where kept logs go (<stateDir>/logs). */
  logsDir: string;
  /** Only stream log lines written at or after this time (attach after a restart). */
  streamSince?: string;
  /** Stop requests that arrived before supervision began. */
  pendingStop?: StopReason;
  /** A preempt request that arrived before supervision began. */
  pendingPreempt?: PendingPreempt;
  stdin?: string;
  /** Binaries for checkpoints (options.checkpoint); without it the task is never checkpointed. */
  runtime?: Pick<RuntimeSettings, 'criu' | 'runc'>;
}

function send(port: MessagePort, e: TaskEvent): void {
  try {
    port.postMessage(e);
  } catch {
    // the main thread closed its end; nothing to report to
  }
}

function cgroupsPathOf(task: Task): string | null {
  const linux = task.info.spec.linux as { cgroupsPath?: unknown } | undefined;
  return typeof linux?.cgroupsPath === 'string' ? linux.cgroupsPath : null;
}

function causeOf(exit: Exit, stopped: StopReason | 'timeout' | null, preempted: boolean): StopCause {
  if (preempted) return 'preempted';
  if (stopped === 'timeout') return 'timeout';
  if (stopped === 'cancelled' || stopped === 'lock-lost' || stopped === 'shutdown') return 'cancelled';
  switch (exit.reason) {
    case 'oom':
      return 'oom';
    case 'timeout':
      return 'timeout';
    case 'lost':
      return 'lost';
    case 'exited':
    case 'checkpointed':
      return 'exited';
    default:
      return assertNever(exit.reason);
  }
}

/** Supervises a started (or re-attached) task to its end and deletes it. */
export async function supervise(s: SuperviseInput): Promise<TaskOutcome> {
  const { task, port, options } = s;
  const cgroupsPath = cgroupsPathOf(task);
  const out = new OutputCollector(options.outputBytes);
  const timers: NodeJS.Timeout[] = [];
  let stopped: StopReason | 'timeout' | null = null;
  let usage: CgroupUsage | null = null;
  let exited = false;

  const kill = (signal: string) => task.kill(signal, { all: true }).catch(() => undefined);
  const stop = (why: StopReason | 'timeout', graceMs: number) => {
    // A lost lock escalates any stop in progress to an immediate KILL (and suppresses the result).
    if (stopped && !(why === 'lock-lost' && stopped !== 'lock-lost')) return;
    stopped = why;
    if (graceMs <= 0 || why === 'lock-lost') return void kill('SIGKILL');
    void kill('SIGTERM');
    timers.push(setTimeout(() => void kill('SIGKILL'), graceMs));
  };
  const ckpt = options.checkpoint && s.runtime ? new Checkpointer(task, options.checkpoint, s.runtime, port) : null;
  const onControl = (m: TaskControl) => {
    if (m && m.type === 'stop') {
      ckpt?.close();
      stop(m.reason, m.graceMs);
    } else if (m && m.type === 'preempt') {
      if (ckpt && !stopped) ckpt.preempt(m.reason, m.requestId);
      else send(port, { type: 'checkpoint-failed', reason: m.reason, requestId: m.requestId, error: { name: 'StasisError', code: 'ERR_FAILED_PRECONDITION', message: ckpt ? 'the task is stopping' : 'checkpoints are not enabled for this job (no --checkpoint-dir, or checkpoint.allow is false)' } });
    }
  };
  port.on('message', onControl);
  if (s.pendingStop) stop(s.pendingStop, s.pendingStop === 'lock-lost' ? 0 : options.killGraceMs);
  ckpt?.start();
  if (s.pendingPreempt) onControl({ type: 'preempt', ...s.pendingPreempt });
  if (s.timeoutSeconds !== undefined) {
    timers.push(setTimeout(() => stop('timeout', options.killGraceMs), Math.max(0, s.timeoutSeconds * 1000)));
  }

  // Usage samples: cheap cgroupfs reads; the last one before delete is kept.
  const sample = async () => {
    let u = cgroupsPath ? await readCgroupUsage(cgroupsPath) : null;
    if (!u && !exited) {
      // No readable cgroup here: ask the runtime (runc events --stats; fails once the task exited).
      u = await task.stats().then(
        (st) => ({ cpuMs: st.cpu.usageNs / 1e6, peakMemoryBytes: st.memory.maxUsageBytes, memoryBytes: st.memory.usageBytes }),
        () => null,
      );
    }
    usage = maxUsage(usage, u);
    if (u) send(port, { type: 'stats', cpuMs: u.cpuMs, peakMemoryBytes: u.peakMemoryBytes, memoryBytes: u.memoryBytes });
  };
  const statsTimer = setInterval(() => void sample(), options.statsIntervalMs);
  timers.push(statsTimer);

  // Logs: one follower tails the log file (by byte offset) into the capped collectors and the port.
  // It is aborted as soon as the exit is known and the tail is read once from its last offset, so
  // no poll interval sits on the critical path.
  const follow = new AbortController();
  let offset = 0;
  let batch: { stream: 'stdout' | 'stderr'; data: string }[] = [];
  let batchTimer: NodeJS.Timeout | null = null;
  const flush = () => {
    if (batchTimer) clearTimeout(batchTimer);
    batchTimer = null;
    if (batch.length === 0) return;
    send(port, { type: 'log', lines: batch });
    batch = [];
  };
  const take = (e: LogEntry & { offset: number }) => {
    offset = e.offset;
    out.add(e);
    if (!options.streamLogs || (s.streamSince && e.time < s.streamSince)) return;
    batch.push({ stream: e.stream, data: e.data });
    batchTimer ??= setTimeout(flush, LOG_BATCH_MS);
  };
  const follower = (async () => {
    const isDone = async () => exited;
    for await (const e of readLog(s.logFile, { follow: true, signal: follow.signal, isDone })) take(e);
  })().catch(() => undefined);

  if (s.stdin !== undefined) {
    const data = s.stdin;
    void (async () => {
      if (data.length > 0) await task.writeStdin(data);
      await task.closeIO();
    })().catch(() => undefined);
  }

  let exit: Exit;
  try {
    exit = await task.wait();
  } catch (e) {
    await kill('SIGKILL');
    exit = await task.wait().catch(() => {
      throw e;
    });
  } finally {
    for (const t of timers) clearTimeout(t);
    port.off('message', onControl);
    ckpt?.close();
  }
  // A final checkpoint ends the task before its commit is done: wait for it.
  await ckpt?.settle();
  exited = true;
  await sample();
  follow.abort();
  await follower;
  for await (const e of readLog(s.logFile, { fromOffset: offset })) take(e);
  flush();

  const logPath = await keepLog(task, s.logFile, s.logsDir, options.keepLogs);
  const u = usage as CgroupUsage | null;
  const outcome: TaskOutcome = {
    taskId: task.id,
    namespace: task.namespace(),
    startedAt: s.startedAt,
    exit,
    cause: causeOf(exit, stopped, ckpt?.preempted !== undefined),
    cpuMs: Math.round(u?.cpuMs ?? 0),
    peakMemoryBytes: u?.peakMemoryBytes ?? 0,
    stdout: out.stdout.text(),
    stderr: out.stderr.text(),
    stdoutTruncated: out.stdout.truncated,
    stderrTruncated: out.stderr.truncated,
    logPath,
    lockLost: stopped === 'lock-lost',
    ...(ckpt ? { checkpoints: ckpt.taken } : {}),
    ...(ckpt?.preempted ? { preempted: ckpt.preempted } : {}),
  };
  // Posting may start now: a crash before the delete below leaves a task whose job is finished,
  // which recovery deletes.
  send(port, { type: 'outcome', outcome });
  await task.delete().catch(async () => {
    await new Promise((r) => setTimeout(r, 200));
    await task.delete();
  });
  return outcome;
}

/** Moves a non-empty task log to <logsDir>/<namespace>/<id>.log before the task directory goes. */
async function keepLog(task: Task, src: string, logsDir: string, keep: boolean): Promise<string | null> {
  if (!keep) return null;
  try {
    const st = await fs.stat(src);
    if (st.size === 0) return null;
    const dest = path.join(logsDir, task.namespace(), `${task.id}.log`);
    await fs.mkdir(path.dirname(dest), { recursive: true });
    await fs.rename(src, dest).catch(() => fs.copyFile(src, dest));
    return dest;
  } catch {
    return null;
  }
}
