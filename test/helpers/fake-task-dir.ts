/**
 * A task on disk in a temp state dir, in any status, behind a FakeRunc and a FakeMonitor: its record,
 * spec and markers are real files where the runtime looks for them (src/runtime/layout.ts), so the
 * TaskProcess façade derives its status the way it does in production (task-facts.ts).
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { loadRuntimeConfig, runtimePaths } from '../../src/config/load.js';
import { assertNever } from '../../src/errors.js';
import type { RuntimeContext } from '../../src/runtime/context.js';
import { containerIdFor } from '../../src/runtime/ids.js';
import { TaskProcess } from '../../src/runtime/init-process.js';
import { taskPaths, type TaskPaths } from '../../src/runtime/layout.js';
import { writeJsonAtomic, writeMarker, type TaskRecord } from '../../src/runtime/records.js';
import type { Status } from '../../src/runtime/task.js';
import type { OciSpec } from '../../src/sandbox/types.js';
import { FakeMonitor } from './fake-monitor.js';
import { FakeRunc } from './fake-runc.js';

/** How to set up the task. */
export interface FakeTaskOptions {
  status: Status;
  /** Created with a stdin pipe / a terminal (default false). */
  stdin?: boolean;
  terminal?: boolean;
  /** The exit status a stopped task recorded (default 0). */
  exitStatus?: number;
}

/** A task of the façade with everything behind it. */
export interface FakeTaskDir {
  task: TaskProcess;
  runc: FakeRunc;
  monitor: FakeMonitor;
  ctx: RuntimeContext;
  paths: TaskPaths;
  containerId: string;
  /** A fresh directory in the state dir (for checkpoint targets). */
  scratch(name: string): string;
  /** Removes the state dir. */
  cleanup(): Promise<void>;
}

const PID = 4242;

function specOf(terminal: boolean): OciSpec {
  return {
    ociVersion: '1.0.2',
    process: { args: ['/.stasis/job/run'], env: ['PATH=/bin'], terminal },
    root: { path: 'rootfs' },
    linux: { resources: { pids: { limit: 100 } } },
    annotations: {},
  };
}

function recordOf(ctx: RuntimeContext, p: TaskPaths, id: string, o: FakeTaskOptions): TaskRecord {
  const started = o.status !== 'created';
  return {
    version: 1,
    info: {
      id,
      namespace: 'default',
      runtime: { name: 'io.stasis.runc', path: ctx.config.runc },
      spec: specOf(o.terminal ?? false),
      bundle: p.bundle,
      containerId: containerIdFor('default', id),
      createdAt: '2026-12-01T10:00:00.000Z',
      annotations: {},
    },
    rootfs: '/fake/rootfs',
    process: { args: ['sleep', '60'] },
    limits: { pids: 100 },
    network: 'none',
    terminal: o.terminal ?? false,
    stdin: o.stdin ?? false,
    pid: PID,
    ...(started ? { startedAt: '2026-12-01T10:00:01.000Z' } : {}),
  };
}

/** Writes a task in `o.status` into a fresh temp state dir and opens it. */
export async function openFakeTask(o: FakeTaskOptions): Promise<FakeTaskDir> {
  const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'stasis-unit-'));
  const config = loadRuntimeConfig({ stateDir, userns: null }, {});
  const runc = new FakeRunc();
  const monitor = new FakeMonitor();
  const ctx: RuntimeContext = {
    config,
    paths: runtimePaths(config),
    runc,
    sandbox: { init: '/fake/tini', busybox: '/fake/busybox', userns: null },
  };
  const id = `t-${randomUUID().slice(0, 8)}`;
  const p = taskPaths(ctx.paths.tasksDir, 'default', id);
  const rec = recordOf(ctx, p, id, o);
  const cid = rec.info.containerId;
  await Promise.all([p.upper, p.markersDir].map((d) => fs.mkdir(d, { recursive: true })));
  await writeJsonAtomic(p.spec, rec.info.spec);
  await writeJsonAtomic(p.record, rec);
  await monitor.launch(p.runDir);
  monitor.follow(runc, cid, p.runDir);
  if (o.terminal) await monitor.openCtl(p.bundle);
  await enterStatus(o, { runc, monitor, p, cid });
  const task = new TaskProcess(ctx, rec, p, monitor.probes(runc));
  if (o.status === 'deleted') await fs.rm(p.dir, { recursive: true });
  return {
    task,
    runc,
    monitor,
    ctx,
    paths: p,
    containerId: cid,
    scratch: (name) => path.join(stateDir, 'scratch', name),
    cleanup: () => fs.rm(stateDir, { recursive: true, force: true }),
  };
}

/** Puts the container and the monitor where `o.status` is derived from (observe.ts). */
async function enterStatus(o: FakeTaskOptions, t: { runc: FakeRunc; monitor: FakeMonitor; p: TaskPaths; cid: string }): Promise<void> {
  switch (o.status) {
    case 'created':
    case 'running':
    case 'paused':
      return t.runc.set(t.cid, { status: o.status, pid: PID });
    case 'pausing':
      t.runc.set(t.cid, { status: 'running', pid: PID });
      return writeMarker(t.p.markersDir, 'pausing');
    case 'stopped':
    case 'deleted':
      t.runc.set(t.cid, { status: 'stopped' });
      return t.monitor.recordExit(t.p.runDir, o.exitStatus ?? 0);
    default:
      return assertNever(o.status);
  }
}

/** Opens fake tasks for one test file; each is removed after the test that opened it. */
export function fakeTasks(): (o: FakeTaskOptions) => Promise<FakeTaskDir> {
  const opened: FakeTaskDir[] = [];
  afterEach(async () => {
    for (const t of opened.splice(0)) await t.cleanup();
  });
  return async (o) => {
    const t = await openFakeTask(o);
    opened.push(t);
    return t;
  };
}
