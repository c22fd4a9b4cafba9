/** Shared set-up of the runtime integration tests: a private state dir and cleanup of every task. */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
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

/** openHarness with `env` set while the manager opens (the A/B switches a runtime reads then). */
export async function openHarnessWith(name: string, env: Record<string, string>): Promise<Harness> {
  const was = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
  Object.assign(process.env, env);
  try {
    return await openHarness(name);
  } finally {
    for (const [k, v] of Object.entries(was)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

/** A harness and an A/B one (opened with `env`); fields are set once the suite's beforeAll ran. */
export interface HarnessPair {
  h: Harness;
  old: Harness;
}

/**
 * Registers the hooks of a suite comparing a harness with one opened under `env` (the way before a
 * change): both opened before the suite (after `ready`, when given), their tasks cleaned after each
 * test, both closed after the suite.
 */
export function harnessPair(name: string, env: Record<string, string>, ready?: () => void): HarnessPair {
  const pair = {} as HarnessPair;
  beforeAll(async () => {
    ready?.();
    pair.h = await openHarness(name);
    pair.old = await openHarnessWith(`${name}-old`, env);
  });
  afterEach(async () => {
    await cleanupTasks(pair.h);
    await cleanupTasks(pair.old);
  });
  afterAll(async () => {
    await closeHarness(pair.h);
    await closeHarness(pair.old);
  });
  return pair;
}

/** Checkpoints `t` into a new directory under `ckRoot` and restores it on `to` under a new id. */
export async function restoredOn(t: Task, to: Harness, ckRoot: string): Promise<Task> {
  const image = path.join(ckRoot, uid('ck'));
  await t.checkpoint(image);
  return to.tm.restore({ id: uid('r'), from: image });
}

/** Checkpoints `t` under `ckRoot` and expects `to` to refuse the image (ERR_CHECKPOINT saying `says`), leaving no task. */
export async function expectImageRefused(t: Task, to: Harness, ckRoot: string, says: string): Promise<void> {
  const image = path.join(ckRoot, uid('ck'));
  await t.checkpoint(image);
  const refused = uid('r');
  await expect(to.tm.restore({ id: refused, from: image })).rejects.toMatchObject({ code: 'ERR_CHECKPOINT', message: expect.stringContaining(says) });
  await expect(to.tm.get(refused)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
}

/** Runs `sh -c script` as an exec of `t`, expects exit 0, and returns its trimmed non-empty output lines. */
export async function execLines(t: Task, script: string): Promise<string[]> {
  const p = await t.exec(uid('sh'), { args: ['sh', '-c', script] });
  await p.start();
  const exit = await p.wait();
  const lines = (await logText(p)).map((l) => l.trim()).filter(Boolean);
  if (exit.status !== 0) throw new Error(`exec exited ${String(exit.status)}: ${lines.join(' | ')}`);
  return lines;
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
