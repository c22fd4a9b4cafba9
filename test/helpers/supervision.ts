/**
 * supervise() of a FakeTask over a real MessageChannel, as a worker thread runs it: the test holds
 * the main thread's end of the port (events in, stop/preempt/release out), and a temp dir holds the
 * task's k8s-file log, the kept logs and the checkpoint store.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, vi } from 'vitest';
import type { CheckpointSettings, LifecycleOptions, TaskControl, TaskEvent, TaskOutcome } from '../../src/pool/protocol.js';
import { supervise } from '../../src/pool/worker/supervise.js';
import type { SuperviseInput } from '../../src/pool/worker/supervise-input.js';
import { appendLog, type LogLine } from './fake-monitor.js';
import { FakeTask } from './fake-task.js';

/** Lifecycle options of a test: long intervals, so nothing fires unless the test asks for it. */
export const TEST_LIFECYCLE: LifecycleOptions = {
  killGraceMs: 5_000,
  statsIntervalMs: 3_600_000,
  outputBytes: 1024 * 1024,
  streamLogs: false,
  keepLogs: false,
};

/** What a test may set of supervise's input. */
export type SupervisionOptions = Partial<Omit<SuperviseInput, 'task' | 'port' | 'options'>> & {
  options?: Partial<LifecycleOptions>;
  /** Lines of the task's log written before supervision starts. */
  log?: LogLine[];
  /** Checkpoints into a store in the temp dir (the CRIU and runc binaries are fakes: nothing commits). */
  checkpoints?: Partial<CheckpointSettings>;
};

/** A running supervise() and the main thread's side of it. */
export interface Supervision {
  task: FakeTask;
  /** Every event the worker side sent, in order. */
  events: TaskEvent[];
  /** supervise()'s own promise. */
  run: Promise<TaskOutcome>;
  dir: string;
  logFile: string;
  /** Sends a control message as the main thread does. */
  send(m: TaskControl): void;
  /** The first event of `type` (already received, or the next one). */
  next<T extends TaskEvent['type']>(type: T): Promise<Extract<TaskEvent, { type: T }>>;
  /** Waits for the outcome event, sends 'release' and returns what supervise() resolved with. */
  finish(): Promise<TaskOutcome>;
  /** Closes the main thread's port and removes the temp dir. */
  close(): Promise<void>;
}

/** Starts supervise() of `task` (default: a fresh running FakeTask). */
export async function superviseFake(o: SupervisionOptions = {}, task = new FakeTask()): Promise<Supervision> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stasis-supervise-'));
  const logFile = path.join(dir, 'run', 'ctr.log');
  if (o.log) await appendLog(logFile, o.log);
  const { port1: main, port2: worker } = new MessageChannel();
  const events: TaskEvent[] = [];
  const waiting: { type: string; resolve: (e: TaskEvent) => void }[] = [];
  main.on('message', (e: TaskEvent) => {
    events.push(e);
    for (const w of waiting.filter((x) => x.type === e.type)) {
      waiting.splice(waiting.indexOf(w), 1);
      w.resolve(e);
    }
  });
  const { log: _log, options, checkpoints, ...input } = o;
  const checkpoint = checkpoints && { dir: path.join(dir, 'store'), keep: 2, nodeId: 'node-1', storeJobId: 'job-1', labels: {}, ...checkpoints };
  const run = supervise({
    task,
    port: worker as MessagePort,
    options: { ...TEST_LIFECYCLE, ...options, ...(checkpoint ? { checkpoint } : {}) },
    startedAt: new Date().toISOString(),
    logFile,
    logsDir: path.join(dir, 'logs'),
    ...(checkpoint ? { runtime: { criu: '/fake/criu', runc: '/fake/runc' } } : {}),
    ...input,
  });
  run.catch(() => undefined); // a test that expects a rejection awaits `run` itself
  const next = <T extends TaskEvent['type']>(type: T) =>
    new Promise<Extract<TaskEvent, { type: T }>>((resolve) => {
      const seen = events.find((e) => e.type === type);
      if (seen) return resolve(seen as Extract<TaskEvent, { type: T }>);
      waiting.push({ type, resolve: resolve as (e: TaskEvent) => void });
    });
  return {
    task,
    events,
    run,
    dir,
    logFile,
    send: (m) => main.postMessage(m),
    next,
    finish: async () => {
      await next('outcome');
      main.postMessage({ type: 'release' });
      return run;
    },
    close: async () => {
      main.close();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

/** Starts supervisions for one test file; after each test its ports close, its dirs go and real timers return. */
export function supervisions(): (o?: SupervisionOptions, task?: FakeTask) => Promise<Supervision> {
  const started: Supervision[] = [];
  afterEach(async () => {
    vi.useRealTimers();
    for (const s of started.splice(0)) await s.close();
  });
  return async (o, task) => {
    const s = await superviseFake(o, task);
    started.push(s);
    return s;
  };
}
