import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import { closeSpawnHelper, useSpawnHelper } from '../../../src/os/command.js';
import { openTaskManager } from '../../../src/runtime/task-manager.js';
import type { CreateTaskOptions, Task, TaskManager } from '../../../src/runtime/task.js';
import { cleanupTasks, logText, openHarness, uid, until, type Harness } from './harness.js';

const ENTRY = path.resolve('dist/workers/spawn-helper.js');

/** The parent pid of `pid`, or 0. */
async function ppidOf(pid: number | string): Promise<number> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] ?? 0);
}

/**
 * The conmon processes waiting for a restore in a slot of kind `key` under `stateDir`: still the
 * spawn helper's children (a started one has daemonised, and keeps the slot's container id as the
 * task's monitor). Other runners on the machine (the deploy test's) keep monitors of their own.
 */
async function readyMonitors(stateDir: string, key = 'restore'): Promise<{ pid: number; containerId: string }[]> {
  const out: { pid: number; containerId: string }[] = [];
  for (const d of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const argv = (await fs.readFile(`/proc/${d}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (!argv[0]?.endsWith('conmon')) continue;
    const cid = argv[argv.indexOf('-c') + 1] ?? '';
    if (!cid.startsWith(`warm.${key}.s-`) || !argv.some((a) => a.startsWith(`${stateDir}/`))) continue;
    const parent = await fs.readFile(`/proc/${await ppidOf(d)}/cmdline`, 'utf8').catch(() => '');
    if (parent.includes('spawn-helper')) out.push({ pid: Number(d), containerId: cid });
  }
  return out;
}

/** The slot directories of kind `key` under the state dir. */
async function slotDirs(stateDir: string, key = 'restore'): Promise<string[]> {
  return (await fs.readdir(path.join(stateDir, 'run', 'warm', key)).catch(() => [] as string[])).filter((n) => n.startsWith('s-'));
}

const gone = async (pid: number) => !(await fs.access(`/proc/${pid}/stat`).then(() => true, () => false));

describeWithHost(['runc', 'conmon', 'criu', 'root', 'busybox'], 'monitors kept ready for restores', () => {
  let h: Harness;
  let tm: TaskManager;
  beforeAll(async () => {
    // As in a runner thread: monitors are started by the thread's spawn helper.
    useSpawnHelper({ entry: ENTRY, env: {} });
    h = await openHarness('ready');
    tm = await openTaskManager({ stateDir: h.stateDir }, { readyRestores: 1 });
  });
  afterEach(() => cleanupTasks(h));
  afterAll(async () => {
    await cleanupTasks(h);
    await tm?.close();
    closeSpawnHelper();
    const left = await fs.readdir(path.join(h.stateDir, 'run', 'runc')).catch(() => []);
    await fs.rm(h.stateDir, { recursive: true, force: true });
    expect(left).toEqual([]);
  });

  /** The one ready monitor, once it waits on its start pipe (and a moment more: it is listed after its spawn). */
  async function oneReady(): Promise<{ pid: number; containerId: string }> {
    const [m] = await until(async () => {
      const ms = await readyMonitors(h.stateDir);
      return ms.length === 1 ? ms : undefined;
    }, 10_000, 'a monitor ready for restores');
    await new Promise((resolve) => setTimeout(resolve, 100));
    return m!;
  }

  /** A counter task, checkpointed into a fresh directory. */
  async function checkpointed(): Promise<{ from: string; task: Task }> {
    const task = await h.tm.create({ id: uid('src'), rootfs: h.rootfs, process: { args: ['sh', '-c', 'i=0; while :; do echo $i; i=$((i+1)); sleep 0.05; done'] } });
    await task.start();
    await until(async () => (await logText(task)).length >= 3 || undefined, 10_000, 'the counter to count');
    const from = path.join(h.stateDir, 'images', uid('ck'));
    await task.checkpoint(from);
    return { from, task };
  }

  it('restores into the ready monitor, and makes the next one ready', async () => {
    const m = await oneReady();
    const { from } = await checkpointed();
    const id = uid('r');
    const t = await tm.restore({ id, from });
    expect(t.info.containerId).toBe(m.containerId);
    // The task dir is the slot's, as for an adopted prepared sandbox.
    const link = await fs.readlink(path.join(h.stateDir, 'run', 'tasks', 'default', id));
    expect(link).toBe(path.join(h.stateDir, 'run', 'warm', 'restore', m.containerId.split('.').pop()!));
    expect((await t.state()).status).toBe('running');
    const before = (await logText(t)).length;
    await until(async () => (await logText(t)).length > before + 2 || undefined, 10_000, 'the restored counter to go on');

    // The next one is ready, under another container id, and a second move uses it.
    const next = await until(async () => {
      const ms = await readyMonitors(h.stateDir);
      return ms.length === 1 && ms[0]!.containerId !== m.containerId ? ms[0] : undefined;
    }, 10_000, 'the next ready monitor');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const again = path.join(h.stateDir, 'images', uid('ck'));
    await t.checkpoint(again);
    const t2 = await tm.restore({ id: uid('r2'), from: again });
    expect(t2.info.containerId).toBe(next.containerId);
    expect((await t2.state()).status).toBe('running');

    // Deleting a task restored this way removes its slot.
    await t2.kill('KILL', { all: true });
    await t2.wait(AbortSignal.timeout(10_000));
    await t2.delete();
    await t.delete();
    expect(await slotDirs(h.stateDir)).not.toContain(next.containerId.split('.').pop());
    expect(await slotDirs(h.stateDir)).not.toContain(m.containerId.split('.').pop());
  });

  it('keeps monitors of their own for terminal and stdin tasks, once one was restored', async () => {
    const count = 'i=0; while :; do echo $i; i=$((i+1)); sleep 0.05; done';
    const echo = 'while read l; do echo got $l; done';
    const variants: [string, Pick<CreateTaskOptions, 'process' | 'stdin'>][] = [
      ['restore-t', { process: { args: ['sh', '-c', count], terminal: true } }],
      ['restore-i', { process: { args: ['sh', '-c', echo] }, stdin: true }],
    ];
    for (const [key, variant] of variants) {
      const t = await h.tm.create({ id: uid('src'), rootfs: h.rootfs, ...variant });
      await t.start();
      if (key === 'restore-i') await t.writeStdin('one\n');
      await until(async () => (await logText(t)).length >= 1 || undefined, 10_000, 'output');
      const first = path.join(h.stateDir, 'images', uid('ck'));
      await t.checkpoint(first);
      // None of this kind was ready: a monitor started now; one is made ready for the next.
      const cold = await tm.restore({ id: uid('cold'), from: first });
      expect(cold.info.containerId.startsWith('warm.')).toBe(false);
      const [m] = await until(async () => {
        const ms = await readyMonitors(h.stateDir, key);
        return ms.length === 1 ? ms : undefined;
      }, 10_000, `a ready monitor of ${key}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const second = path.join(h.stateDir, 'images', uid('ck'));
      await cold.checkpoint(second);
      const r = await tm.restore({ id: uid('ready'), from: second });
      expect(r.info.containerId).toBe(m!.containerId);
      expect((await r.state()).terminal).toBe(key === 'restore-t');
      if (key === 'restore-i') {
        await r.writeStdin('two\n');
        await until(async () => (await logText(r)).includes('got two') || undefined, 10_000, 'got two');
      } else {
        const before = (await logText(r)).length;
        await until(async () => (await logText(r)).length > before + 2 || undefined, 10_000, 'the restored count');
      }
    }
  });

  it('kills the ready monitor and leaves nothing when the restore fails before CRIU runs', async () => {
    const m = await oneReady();
    const { from } = await checkpointed();
    const id = uid('refused');
    const gate = Promise.reject(new Error('digests differ'));
    gate.catch(() => undefined); // awaited by the restore once the task dir is laid out
    await expect(tm.restore({ id, from, gate })).rejects.toThrow('digests differ');
    await until(async () => (await gone(m.pid)) || undefined, 5000, 'the monitor to be killed');
    expect(await fs.lstat(path.join(h.stateDir, 'run', 'tasks', 'default', id)).catch(() => null)).toBeNull();
    expect(await slotDirs(h.stateDir)).not.toContain(m.containerId.split('.').pop());
    // And the next one is made ready.
    await until(async () => ((await readyMonitors(h.stateDir)).some((x) => x.containerId !== m.containerId) ? true : undefined), 10_000, 'a new ready monitor');
  });

  it('lets its monitors go during its own recovery, and makes them ready again after', async () => {
    const m = await oneReady();
    await tm.recover();
    expect(await gone(m.pid)).toBe(true);
    const next = await oneReady();
    expect(next.containerId).not.toBe(m.containerId);
    const { from } = await checkpointed();
    const t = await tm.restore({ id: uid('after'), from });
    expect(t.info.containerId).toBe(next.containerId);
  });

  it('restores the usual way when another manager\'s recovery removed the ready slot', async () => {
    const m = await oneReady();
    await h.tm.recover(); // another manager (a restarted node's scan): it removes every unclaimed slot
    await until(async () => (await gone(m.pid)) || undefined, 5000, 'the monitor to be killed');
    const { from } = await checkpointed();
    const t = await tm.restore({ id: uid('cold'), from });
    expect(t.info.containerId).not.toBe(m.containerId);
    expect((await t.state()).status).toBe('running');
  });

  it('on close, kills the monitors still waiting and removes their slots', async () => {
    const other = await openTaskManager({ stateDir: h.stateDir }, { readyRestores: 1 });
    const [mine] = await until(async () => {
      const ms = await readyMonitors(h.stateDir);
      return ms.length === 2 ? ms : undefined;
    }, 10_000, 'a second manager\'s ready monitor');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const before = await readyMonitors(h.stateDir);
    await other.close();
    const after = await readyMonitors(h.stateDir);
    expect(after).toHaveLength(1);
    const killed = before.find((b) => !after.some((a) => a.pid === b.pid))!;
    expect(killed).toBeDefined();
    expect(await gone(killed.pid)).toBe(true);
    expect(await slotDirs(h.stateDir)).toHaveLength(1);
    expect(mine).toBeDefined();
  });

  it('a thread that goes without closing: its helper kills the waiting monitor, and recovery removes the slot', async () => {
    const m = await oneReady();
    // The thread lets its helper go (as when a worker thread ends): the monitor must not start.
    closeSpawnHelper();
    await until(async () => (await gone(m.pid)) || undefined, 5000, 'the monitor to be killed');
    await h.tm.recover();
    expect(await slotDirs(h.stateDir)).toEqual([]);
    expect(await fs.readdir(path.join(h.stateDir, 'run', 'runc'))).toEqual([]);
    useSpawnHelper({ entry: ENTRY, env: {} });
  });
});
