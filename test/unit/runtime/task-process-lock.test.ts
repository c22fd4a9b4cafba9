import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { taskLockFile } from '../../../src/runtime/context.js';
import { fakeTasks } from '../../helpers/fake-task-dir.js';
import { settle } from '../../helpers/settle.js';

const openTask = fakeTasks();
const open = (status: 'running' | 'paused') => openTask({ status });

describe('TaskProcess per-task lock', () => {
  it('runs a second operation only after the first finished, and the second sees the status the first left', async () => {
    const { task, runc } = await open('running');
    const gate = runc.hold('pause');
    const pause = task.pause();
    await gate.reached;
    const kill = task.kill('KILL');
    await settle();
    expect(runc.verbs({ withState: true })).toEqual(['state', 'pause']);
    gate.release();
    await Promise.all([pause, kill]);
    expect(runc.verbs({ withState: true })).toEqual(['state', 'pause', 'state', 'kill']);
  });

  it('refuses the second operation when the first changed the status under it', async () => {
    const { task, runc } = await open('running');
    const gate = runc.hold('pause');
    const pause = task.pause();
    await gate.reached;
    const pauseAgain = task.pause();
    gate.release();
    await pause;
    await expect(pauseAgain).rejects.toThrow('cannot pause a paused task');
    expect(runc.callsOf('pause')).toHaveLength(1);
  });

  it('lets reads through while an operation holds the lock', async () => {
    const { task, runc } = await open('running');
    const gate = runc.hold('pause');
    const pause = task.pause();
    await gate.reached;
    expect((await task.state()).status).toBe('pausing');
    expect(await task.pid()).toBe(4242);
    gate.release();
    await pause;
  });

  it('does not make operations of another task wait', async () => {
    const a = await open('running');
    const b = await open('running');
    const gate = a.runc.hold('pause');
    const pauseA = a.task.pause();
    await gate.reached;
    await b.task.pause();
    expect((await b.task.state()).status).toBe('paused');
    gate.release();
    await pauseA;
  });

  it('releases the lock when the operation fails', async () => {
    const { task, runc, ctx } = await open('running');
    runc.fail('pause', 'runtime');
    await expect(task.pause()).rejects.toMatchObject({ code: 'ERR_RUNTIME' });
    await expect(fs.stat(taskLockFile(ctx, 'default', task.id))).rejects.toMatchObject({ code: 'ENOENT' });
    await task.pause();
    expect((await task.state()).status).toBe('paused');
  });

  it('waits for a lock another live process holds, and proceeds once it is released', async () => {
    const { task, runc, ctx } = await open('paused');
    const lock = taskLockFile(ctx, 'default', task.id);
    await fs.mkdir(path.dirname(lock), { recursive: true });
    await fs.writeFile(lock, `${process.pid} 999 ${Date.now()}\n`);
    const resume = task.resume();
    await settle();
    expect(runc.calls).toEqual([]);
    await fs.rm(lock);
    await resume;
    expect(runc.verbs()).toEqual(['resume']);
  });
});
