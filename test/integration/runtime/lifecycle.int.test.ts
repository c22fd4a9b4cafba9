import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import { cgroupsPathFor } from '../../../src/runtime/ids.js';
import { cleanupTasks, closeHarness, logText, openHarness, runSh, uid, until, type Harness } from './harness.js';

describeWithHost(['runc', 'conmon', 'root', 'busybox'], 'task lifecycle', () => {
  let h: Harness;
  beforeAll(async () => void (h = await openHarness('life')));
  afterEach(() => cleanupTasks(h));
  afterAll(() => closeHarness(h));

  it('create → created, start → running, wait → exit status and ExitedAt from the monitor', async () => {
    const id = uid();
    const t = await h.tm.create({ id, rootfs: h.rootfs, process: { args: ['sh', '-c', 'echo hello; echo oops >&2; exit 42'] } });
    const created = await t.state();
    expect(created).toMatchObject({ id, status: 'created', terminal: false });
    expect(created.pid).toBeGreaterThan(0);
    expect(t.namespace()).toBe('default');
    expect(t.info.containerId).toBe(`default+${id}`);
    expect((t.info.spec.linux as { cgroupsPath: string }).cgroupsPath).toBe(cgroupsPathFor(h.stateDir, 'default', id));
    const before = Date.now();
    await t.start();
    const exit = await t.wait();
    expect(exit).toMatchObject({ status: 42, signal: null, reason: 'exited' });
    expect(Date.parse(exit.exitedAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(exit.exitedAt)).toBeLessThanOrEqual(Date.now());
    const st = await t.state();
    expect(st).toMatchObject({ status: 'stopped', exitStatus: 42, exitedAt: exit.exitedAt });
    expect(await logText(t)).toEqual(['hello', 'oops']);
    expect(await t.delete()).toMatchObject({ status: 42 });
    expect((await t.state()).status).toBe('deleted');
    await expect(h.tm.get(id)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
  });

  it('get() from another manager sees the same task and its exit', async () => {
    const t = await runSh(h, 'sleep 0.3; exit 3');
    const other = await (await import('../../../src/runtime/task-manager.js')).openTaskManager({ stateDir: h.stateDir });
    const again = await other.get(t.id);
    expect(await again.pid()).toBe(await t.pid());
    expect((await again.wait()).status).toBe(3);
    expect((await h.tm.list()).map((s) => s.info.id)).toContain(t.id);
  });

  it('wait() on an exited task builds the exit from the exit file alone (no runc call)', async () => {
    const t = await runSh(h, 'exit 7');
    await t.wait();
    const noRunc = await (await import('../../../src/runtime/task-manager.js')).openTaskManager({ stateDir: h.stateDir, runc: '/bin/false' });
    expect(await (await noRunc.get(t.id)).wait()).toMatchObject({ status: 7, reason: 'exited' });
  });

  it('kill(SIGKILL) ends a task with 137 and signal SIGKILL', async () => {
    const t = await runSh(h, 'sleep 300');
    expect((await t.state()).status).toBe('running');
    await t.kill('SIGKILL');
    expect(await t.wait()).toMatchObject({ status: 137, signal: 'SIGKILL', reason: 'exited' });
  });

  it('kill(all) signals every process of the task', async () => {
    const t = await runSh(h, 'sleep 300 & sleep 300 & wait');
    await until(async () => (await t.pids()).length >= 3, 10_000, 'three processes');
    await t.kill(9, { all: true });
    expect((await t.wait()).status).toBe(137);
  });

  it('pause() gives paused, resume() gives running again', async () => {
    const t = await runSh(h, 'sleep 300');
    await t.pause();
    expect((await t.state()).status).toBe('paused');
    await expect(t.pause()).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION', message: 'cannot pause a paused task' });
    await t.resume();
    expect((await t.state()).status).toBe('running');
  });

  it('state() reports pausing while another process has a freeze in flight, and refuses exec then', async () => {
    const t = await runSh(h, 'sleep 300');
    const markers = path.join(h.stateDir, 'run/tasks/default', t.id, 'markers');
    await fs.mkdir(markers, { recursive: true });
    await fs.writeFile(path.join(markers, 'pausing.json'), JSON.stringify({ at: new Date().toISOString(), pid: process.pid }));
    expect((await t.state()).status).toBe('pausing');
    await expect(t.exec('x', { args: ['true'] })).rejects.toThrow('cannot exec a pausing task');
    await fs.rm(path.join(markers, 'pausing.json'));
    expect((await t.state()).status).toBe('running');
  });

  it('delete() on a running task fails with ERR_FAILED_PRECONDITION; on a created task it cleans up', async () => {
    const t = await runSh(h, 'sleep 300');
    await expect(t.delete()).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION' });
    const c = await h.tm.create({ id: uid(), rootfs: h.rootfs, process: { args: ['true'] } });
    await c.delete();
    expect((await c.state()).status).toBe('deleted');
  });

  it('operations on a stopped task fail clearly', async () => {
    const t = await runSh(h, 'exit 0');
    await t.wait();
    await expect(t.pause()).rejects.toThrow('cannot pause a stopped task');
    await expect(t.start()).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION' });
    await expect(t.kill('KILL')).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION' });
  });

  it('create() refuses a taken id and bad input', async () => {
    const t = await runSh(h, 'sleep 300');
    await expect(h.tm.create({ id: t.id, rootfs: h.rootfs, process: { args: ['true'] } })).rejects.toMatchObject({ code: 'ERR_ALREADY_EXISTS' });
    await expect(h.tm.create({ id: 'bad/id', rootfs: h.rootfs, process: { args: ['true'] } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(h.tm.create({ id: uid(), rootfs: '/nonexistent', process: { args: ['true'] } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(h.tm.create({ id: uid(), rootfs: h.rootfs, process: { args: [] } })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('logs({follow}) streams until the task exits', async () => {
    const t = await runSh(h, 'for i in 1 2 3; do echo line $i; sleep 0.1; done');
    expect(await logText(t, true)).toEqual(['line 1', 'line 2', 'line 3']);
  });

  it('an OOM kill is reported with reason oom', async () => {
    const t = await runSh(h, 'x=a; while true; do x="$x$x"; done', { limits: { memoryBytes: 16 << 20 } });
    const exit = await t.wait(AbortSignal.timeout(30_000));
    expect(exit).toMatchObject({ status: 137, reason: 'oom' });
  });

  it('a monitor timeout is reported with reason timeout', async () => {
    const t = await runSh(h, 'sleep 300', { timeoutSeconds: 1 });
    expect(await t.wait()).toMatchObject({ reason: 'timeout', status: 137 });
  });
});
