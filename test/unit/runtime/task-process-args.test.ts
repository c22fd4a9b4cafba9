import fs from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { readJson, readMarker, readTaskRecord } from '../../../src/runtime/records.js';
import { fakeTasks } from '../../helpers/fake-task-dir.js';
import { appendLog } from '../../helpers/fake-monitor.js';

const open = fakeTasks();

describe('TaskProcess → runc arguments', () => {
  it('start() starts the container and records when the user process began', async () => {
    const { task, runc, paths, containerId } = await open({ status: 'created' });
    await task.start();
    expect(runc.callsOf('start')).toEqual([{ verb: 'start', id: containerId, args: [] }]);
    expect((await readTaskRecord(paths.record))?.startedAt).toEqual(expect.any(String));
    expect((await task.state()).status).toBe('running');
  });

  it('kill() passes the signal and `all` to runc as given', async () => {
    const { task, runc } = await open({ status: 'running' });
    await task.kill('SIGTERM', { all: true });
    await task.kill(9);
    expect(runc.callsOf('kill').map((c) => c.args)).toEqual([['SIGTERM', true], [9, false]]);
    expect(await task.wait()).toMatchObject({ status: 137, signal: 'SIGKILL', reason: 'exited' });
  });

  it('kill() of a container runc no longer knows fails with ERR_FAILED_PRECONDITION, keeping runc\'s line', async () => {
    const { task, runc } = await open({ status: 'running' });
    runc.fail('kill', 'not-found');
    await expect(task.kill('TERM')).rejects.toMatchObject({
      code: 'ERR_FAILED_PRECONDITION',
      message: expect.stringMatching(/^cannot kill task t-\S+: it is not running/),
      details: { runtimeError: 'container does not exist' },
    });
  });

  it('pause() freezes with runc pause, and other observers see pausing while the freeze is in flight', async () => {
    const { task, runc, paths, containerId } = await open({ status: 'running' });
    const gate = runc.hold('pause');
    const pausing = task.pause();
    await gate.reached;
    expect((await task.state()).status).toBe('pausing');
    gate.release();
    await pausing;
    expect(runc.callsOf('pause')).toEqual([{ verb: 'pause', id: containerId, args: [] }]);
    expect((await task.state()).status).toBe('paused');
    expect(await readMarker(paths.markersDir, 'pausing')).toBeUndefined();
  });

  it('resume() thaws with runc resume', async () => {
    const { task, runc, containerId } = await open({ status: 'paused' });
    await task.resume();
    expect(runc.callsOf('resume')).toEqual([{ verb: 'resume', id: containerId, args: [] }]);
    expect((await task.state()).status).toBe('running');
  });

  it('delete() of a created task kills it, waits for its monitor to record the exit, then force-deletes it', async () => {
    const { task, runc, paths } = await open({ status: 'created' });
    const exit = await task.delete();
    expect(runc.calls.filter((c) => c.verb !== 'state').map((c) => [c.verb, ...c.args])).toEqual([
      ['kill', 'KILL', false],
      ['delete', true],
    ]);
    expect(exit).toMatchObject({ status: 137, signal: 'SIGKILL' });
    await expect(fs.stat(paths.dir)).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await task.state()).status).toBe('deleted');
  });

  it('delete() of a stopped task returns the exit its monitor recorded and removes the task dir', async () => {
    const { task, runc, paths } = await open({ status: 'stopped', exitStatus: 3 });
    expect(await task.delete()).toMatchObject({ status: 3, signal: null, reason: 'exited' });
    expect(runc.callsOf('delete').map((c) => c.args)).toEqual([[true]]);
    await expect(fs.stat(paths.dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('update() sends OCI linux.resources to runc and merges them into the spec and limits on disk', async () => {
    const { task, runc, paths } = await open({ status: 'running' });
    await task.update({ memoryBytes: 64 * 1024 ** 2, cpus: 0.5, pids: 50 });
    const oci = { memory: { limit: 67_108_864, swap: 67_108_864 }, cpu: { quota: 50_000, period: 100_000 }, pids: { limit: 50 } };
    expect(runc.callsOf('update').map((c) => c.args)).toEqual([[oci]]);
    expect(await readJson(paths.spec)).toMatchObject({ linux: { resources: oci } });
    expect((await readTaskRecord(paths.record))?.limits).toEqual({ pids: 50, memoryBytes: 67_108_864, cpus: 0.5 });
  });

  it('update() with annotations only records them without asking runc', async () => {
    const { task, runc } = await open({ status: 'running' });
    await task.update({}, { team: 'infra' });
    expect(runc.callsOf('update')).toEqual([]);
    await task.state();
    expect(task.info.annotations).toEqual({ team: 'infra' });
  });

  it('update() with a bad value fails with ERR_INVALID_ARGUMENT before asking runc', async () => {
    const { task, runc } = await open({ status: 'running' });
    await expect(task.update({ pids: -1 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', details: { field: 'resources.pids' } });
    expect(runc.callsOf('update')).toEqual([]);
  });

  it('stats() normalizes what runc events --stats reports', async () => {
    const { task } = await open({ status: 'running' });
    expect(await task.stats()).toMatchObject({ cpu: { usageNs: 1_500_000 }, memory: { usageBytes: 4096, maxUsageBytes: 8192 }, pids: { current: 1 } });
  });

  it('pids() asks runc ps and leaves out processes that are already gone', async () => {
    const { task, runc, containerId } = await open({ status: 'running' });
    runc.set(containerId, { status: 'running', pid: 999_999_999 });
    expect(await task.pids()).toEqual([]);
    expect(runc.callsOf('ps')).toHaveLength(1);
  });

  it('resizePty() writes rows and columns to the monitor\'s control FIFO', async () => {
    const { task, monitor, paths } = await open({ status: 'running', terminal: true });
    await task.resizePty({ width: 100, height: 30 });
    expect(await monitor.ctl(paths.bundle)).toBe('1 30 100\n');
  });

  it('resizePty() of a task without a terminal fails with ERR_FAILED_PRECONDITION', async () => {
    const { task } = await open({ status: 'running' });
    await expect(task.resizePty({ width: 100, height: 30 })).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION', message: expect.stringMatching(/has no terminal/) });
  });

  it('exec() records a created exec process without asking runc', async () => {
    const { task, runc } = await open({ status: 'running' });
    const p = await task.exec('probe-1', { args: ['echo', 'hi'], env: ['A=b'] });
    expect((await p.state()).status).toBe('created');
    expect((await task.process('probe-1')).id).toBe('probe-1');
    expect(runc.verbs()).toEqual([]);
  });
});

describe('TaskProcess reads', () => {
  it('wait() resolves with the exit once the monitor records it', async () => {
    const { task, monitor, paths } = await open({ status: 'running' });
    const waiting = task.wait();
    await monitor.recordExit(paths.runDir, 42);
    expect(await waiting).toMatchObject({ status: 42, signal: null, reason: 'exited' });
  });

  it('wait() fails with ERR_UNAVAILABLE when its signal aborts', async () => {
    const { task } = await open({ status: 'running' });
    const ac = new AbortController();
    const waiting = task.wait(ac.signal);
    ac.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'ERR_UNAVAILABLE', details: { aborted: true } });
  });

  it('state() reports an oom kill the monitor recorded', async () => {
    const { task, monitor, paths } = await open({ status: 'running' });
    await monitor.recordExit(paths.runDir, 137, { oom: true });
    expect(await task.state()).toMatchObject({ status: 'stopped', exitStatus: 137, exit: { reason: 'oom' } });
  });

  it('state() reports a task whose monitor died without an exit as stopped with reason lost', async () => {
    const { task, monitor, paths } = await open({ status: 'running' });
    monitor.die(paths.runDir);
    expect(await task.state()).toMatchObject({ status: 'stopped', exitStatus: 255, exit: { reason: 'lost' } });
    await expect(task.pause()).rejects.toThrow('cannot pause a stopped task');
  });

  it('logs() reads what the monitor wrote to the task\'s log', async () => {
    const { task, paths } = await open({ status: 'stopped' });
    await appendLog(paths.log, [{ stream: 'stdout', data: 'hello' }, { stream: 'stderr', data: 'oops', partial: true }]);
    const seen = [];
    for await (const e of task.logs()) seen.push([e.stream, e.data, e.partial]);
    expect(seen).toEqual([['stdout', 'hello', false], ['stderr', 'oops', true]]);
  });
});
