import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CHECKPOINT_LAYOUT } from '../../../src/checkpoint/layout.js';
import { readJson, readMarker } from '../../../src/runtime/records.js';
import { fakeTasks } from '../../helpers/fake-task-dir.js';

const open = fakeTasks();

describe('TaskProcess.checkpoint over a fake runc', () => {
  it('maps its options to runc checkpoint flags with the image in criu/ and the log in work/', async () => {
    const { task, runc, scratch } = await open({ status: 'running' });
    const dir = scratch('ck');
    const r = await task.checkpoint(dir, { tcpEstablished: true, fileLocks: true, externalUnixSockets: true, shellJob: true, rootfsDiff: false });
    expect(runc.callsOf('checkpoint').map((c) => c.args)).toEqual([
      [{
        imagePath: path.join(dir, CHECKPOINT_LAYOUT.images),
        workPath: path.join(dir, CHECKPOINT_LAYOUT.work),
        leaveRunning: false,
        tcpEstablished: true,
        fileLocks: true,
        externalUnixSockets: true,
        shellJob: true,
      }],
    ]);
    expect(r).toMatchObject({ path: dir, criuLog: path.join(dir, 'work', 'dump.log'), leaveRunning: false });
    expect(await readJson(path.join(dir, CHECKPOINT_LAYOUT.meta))).toMatchObject({ version: 1, taskId: task.id, hasRootfsDiff: false });
    expect(await readJson(path.join(dir, CHECKPOINT_LAYOUT.spec))).toMatchObject({ ociVersion: '1.0.2' });
  });

  it('ends the task: it is stopped with reason checkpointed once the monitor recorded the SIGKILL', async () => {
    const { task, paths, scratch } = await open({ status: 'running' });
    await task.checkpoint(scratch('ck'), { rootfsDiff: false });
    expect(await task.state()).toMatchObject({ status: 'stopped', exitStatus: 137, exit: { reason: 'checkpointed' } });
    expect(await readMarker(paths.markersDir, 'checkpointed')).toMatchObject({ path: scratch('ck') });
    expect(await readMarker(paths.markersDir, 'checkpointing')).toBeUndefined();
  });

  it('checkpoint({ leaveRunning: true }) freezes a running task with pause, dumps it, then resumes it', async () => {
    const { task, runc, paths, scratch } = await open({ status: 'running' });
    const r = await task.checkpoint(scratch('ck'), { leaveRunning: true, rootfsDiff: false });
    expect(runc.verbs()).toEqual(['pause', 'checkpoint', 'resume']);
    expect(runc.callsOf('checkpoint')[0]?.args[0]).toMatchObject({ leaveRunning: true });
    expect(r.leaveRunning).toBe(true);
    expect((await task.state()).status).toBe('running');
    expect(await readMarker(paths.markersDir, 'checkpointing')).toBeUndefined();
  });

  it('checkpoint({ leaveRunning: true }) of a paused task dumps it and leaves it paused', async () => {
    const { task, runc, scratch } = await open({ status: 'paused' });
    await task.checkpoint(scratch('ck'), { leaveRunning: true, rootfsDiff: false });
    expect(runc.verbs()).toEqual(['checkpoint']);
    expect((await task.state()).status).toBe('paused');
  });

  it('checkpoint({ preDump: true }) dumps memory only: the task keeps running unfrozen and no image files are written', async () => {
    const { task, runc, scratch } = await open({ status: 'running' });
    const r = await task.checkpoint(scratch('ck'), { preDump: true });
    expect(runc.verbs()).toEqual(['checkpoint']);
    expect(runc.callsOf('checkpoint')[0]?.args[0]).toMatchObject({ preDump: true });
    expect(r).toMatchObject({ leaveRunning: true });
    expect(r.criuLog).toBe(path.join(scratch('ck'), 'work', 'pre-dump.log'));
    expect(await readJson(path.join(scratch('ck'), CHECKPOINT_LAYOUT.meta))).toBeUndefined();
    expect((await task.state()).status).toBe('running');
  });

  it('refuses a directory that already holds something with ERR_ALREADY_EXISTS, and a relative one with ERR_INVALID_ARGUMENT', async () => {
    const { task, runc, scratch } = await open({ status: 'running' });
    await fs.mkdir(scratch('ck'), { recursive: true });
    await fs.writeFile(path.join(scratch('ck'), 'old'), '');
    await expect(task.checkpoint(scratch('ck'))).rejects.toMatchObject({ code: 'ERR_ALREADY_EXISTS' });
    await expect(task.checkpoint('relative/ck')).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', details: { field: 'path' } });
    expect(runc.callsOf('checkpoint')).toEqual([]);
  });

  it('a failed dump fails with ERR_CHECKPOINT and CRIU\'s log, and leaves the task running without a marker', async () => {
    const { task, runc, paths, scratch } = await open({ status: 'running' });
    runc.fail('checkpoint', 'checkpoint');
    await expect(task.checkpoint(scratch('ck'), { rootfsDiff: false })).rejects.toMatchObject({
      code: 'ERR_CHECKPOINT',
      details: { criuLog: '/fake/work/dump.log' },
    });
    expect((await task.state()).status).toBe('running');
    expect(await readMarker(paths.markersDir, 'checkpointing')).toBeUndefined();
  });

  it('a failed dump of a task meant to keep running thaws it again', async () => {
    const { task, runc, scratch } = await open({ status: 'running' });
    runc.fail('checkpoint', 'checkpoint');
    await expect(task.checkpoint(scratch('ck'), { leaveRunning: true, rootfsDiff: false })).rejects.toMatchObject({ code: 'ERR_CHECKPOINT' });
    expect(runc.verbs()).toEqual(['pause', 'checkpoint', 'resume']);
    expect((await task.state()).status).toBe('running');
  });

  it('a dump that meets the end of its task fails with ERR_FAILED_PRECONDITION, not ERR_CHECKPOINT, and keeps CRIU\'s log', async () => {
    // CRIU finds a process of the exiting task gone ("Unable to detach from N: No such process"): the
    // task ended, as for a checkpoint of a stopped task; a periodic checkpoint then is no warning.
    const { task, runc, containerId, scratch } = await open({ status: 'paused' });
    runc.fail('checkpoint', 'checkpoint', { line: 'criu failed: type NOTIFY errno 3\nlog file: /fake/work/dump.log' });
    const gate = runc.hold('checkpoint');
    const ck = task.checkpoint(scratch('ck'), { leaveRunning: true, rootfsDiff: false });
    await gate.reached;
    runc.set(containerId, { status: 'stopped' });
    gate.release();
    await expect(ck).rejects.toMatchObject({
      code: 'ERR_FAILED_PRECONDITION',
      message: expect.stringContaining('exited during the checkpoint'),
      details: { criuLog: '/fake/work/dump.log', exitedDuringDump: true },
    });
  });

  it('a failed freeze before a leave-running dump leaves no checkpointing marker behind', async () => {
    // A 'checkpointing' marker with frozen: true tells recovery to thaw the task: left behind, it
    // would make a later restart resume a task its user paused.
    const { task, runc, paths, scratch } = await open({ status: 'running' });
    runc.fail('pause', 'runtime');
    await expect(task.checkpoint(scratch('ck'), { leaveRunning: true, rootfsDiff: false })).rejects.toMatchObject({ code: 'ERR_RUNTIME' });
    expect(runc.verbs()).toEqual(['pause']);
    expect(await readMarker(paths.markersDir, 'checkpointing')).toBeUndefined();
    expect((await task.state()).status).toBe('running');
  });

  it('a failed incremental dump says it was incremental', async () => {
    const { task, runc, scratch } = await open({ status: 'running' });
    await fs.mkdir(path.join(scratch('parent'), CHECKPOINT_LAYOUT.images), { recursive: true });
    runc.fail('checkpoint', 'checkpoint');
    await expect(task.checkpoint(scratch('ck'), { parentPath: scratch('parent'), rootfsDiff: false })).rejects.toMatchObject({
      code: 'ERR_CHECKPOINT',
      message: expect.stringMatching(/^incremental checkpoint of task t-\S+ failed: runc checkpoint/),
      details: { incremental: true },
    });
    expect(runc.callsOf('checkpoint')[0]?.args[0]).toMatchObject({ parentPath: path.join('..', '..', 'parent', 'criu') });
  });
});
