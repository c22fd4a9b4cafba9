/** Shared set-up of the runtime integration tests: a private state dir and cleanup of every task. */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openTaskManager } from '../../../src/runtime/task-manager.js';
import type { LogEntry, Task, TaskManager } from '../../../src/runtime/task.js';
import { testRootfs } from '../../helpers/rootfs.js';

/** A unique task id. */
export const uid = (prefix = 't') => `${prefix}-${randomUUID().slice(0, 8)}`;

/** A private state dir and a manager over it. */
export interface Harness {
  stateDir: string;
  rootfs: string;
  tm: TaskManager;
}

/** Creates a private state dir under os.tmpdir() and opens a manager over it. */
export async function openHarness(name: string): Promise<Harness> {
  const stateDir = await fs.mkdtemp(path.join(os.tmpdir(), `stasis-rt-${name}-`));
  const rootfs = await testRootfs();
  return { stateDir, rootfs, tm: await openTaskManager({ stateDir }) };
}

/** Kills and deletes every task of the harness (all namespaces). */
export async function cleanupTasks(h: Harness): Promise<void> {
  for (const { info } of await h.tm.list()) {
    const t = await h.tm.get(info.id, info.namespace).catch(() => undefined);
    if (!t) continue;
    const s = await t.state();
    if (s.status === 'paused') await t.resume().catch(() => undefined);
    if (s.status !== 'stopped') {
      await t.kill('KILL', { all: true }).catch(() => undefined);
      const ac = AbortSignal.timeout(10_000);
      await t.wait(ac).catch(() => undefined);
    }
    await t.delete().catch((e) => console.error(`cleanup of ${info.id} failed`, e));
  }
}

/** Removes the state dir (after cleanupTasks). */
export async function closeHarness(h: Harness): Promise<void> {
  await cleanupTasks(h);
  await fs.rm(h.stateDir, { recursive: true, force: true });
}

/** Collects a task's or exec's log lines (stdout+stderr) as text. */
export async function logText(p: { logs(o?: { follow?: boolean; signal?: AbortSignal }): AsyncIterable<LogEntry> }, follow = false): Promise<string[]> {
  const out: string[] = [];
  for await (const e of p.logs({ follow, signal: AbortSignal.timeout(20_000) })) out.push(e.data);
  return out;
}

/** Polls `fn` until it returns a truthy value (or throws after `ms`). */
export async function until<T>(fn: () => Promise<T | undefined | false>, ms = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Creates and starts a task running `sh -c script`. */
export async function runSh(h: Harness, script: string, extra: Partial<Parameters<TaskManager['create']>[0]> = {}): Promise<Task> {
  const t = await h.tm.create({ id: uid(), rootfs: h.rootfs, process: { args: ['sh', '-c', script] }, ...extra });
  await t.start();
  return t;
}
