import fs from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { errors } from '../../../src/errors.js';
import type { ExitReason } from '../../../src/runtime/task.js';
import type { StopCause } from '../../../src/pool/protocol.js';
import { START_FAILURE_PREFIX } from '../../../src/sandbox/launcher.js';
import { appendLog } from '../../helpers/fake-monitor.js';
import { FakeTask } from '../../helpers/fake-task.js';
import { supervisions, type SupervisionOptions } from '../../helpers/supervision.js';

const start = supervisions();

const HOUR = 3_600_000;

describe('supervise: the cause of each ending', () => {
  const cases: { name: string; status: number; reason?: ExitReason; cause: StopCause; o?: SupervisionOptions; exitedAt?: string }[] = [
    { name: 'an exit on its own is exited', status: 3, cause: 'exited' },
    { name: 'a kill by someone else is exited', status: 137, cause: 'exited' },
    { name: 'an OOM kill the monitor recorded is oom', status: 137, reason: 'oom', cause: 'oom' },
    { name: 'the monitor\'s own timeout is timeout', status: 137, reason: 'timeout', cause: 'timeout' },
    { name: 'a monitor lost without an exit is lost', status: 255, reason: 'lost', cause: 'lost' },
    {
      name: 'an exit after the deadline that nobody acted on (a restart) is timeout',
      status: 0,
      cause: 'timeout',
      o: { startedAt: new Date(Date.now() - 2 * HOUR).toISOString(), options: { deadlines: { timeoutSeconds: 3600 } } },
      exitedAt: new Date(Date.now() - HOUR / 2).toISOString(),
    },
    { name: 'SIGXCPU under a CPU-time limit is cpu-time', status: 128 + 24, cause: 'cpu-time', o: { options: { deadlines: { cpuTimeSeconds: 5 } } } },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const task = new FakeTask();
      if (c.exitedAt) task.status = 'stopped'; // found stopped after a restart
      const { finish } = await start(c.o, task);
      task.exit(c.status, { ...(c.reason ? { reason: c.reason } : {}), ...(c.exitedAt ? { exitedAt: c.exitedAt } : {}) });
      expect((await finish()).cause).toBe(c.cause);
    });
  }

  it('the launch script\'s own 127 report is failed-to-start', async () => {
    const { task, logFile, finish } = await start();
    await appendLog(logFile, [{ stream: 'stderr', data: `${START_FAILURE_PREFIX}nope: command not found` }]);
    task.exit(127);
    expect(await finish()).toMatchObject({ cause: 'failed-to-start', stderr: `${START_FAILURE_PREFIX}nope: command not found\n` });
  });

  it('CPU time sampled at or past the limit is cpu-time', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const task = new FakeTask();
    task.usage = { cpuMs: 2_000, memoryBytes: 10, peakMemoryBytes: 20 };
    const { finish } = await start({ options: { statsIntervalMs: 1_000, deadlines: { cpuTimeSeconds: 2 } } }, task);
    await vi.advanceTimersByTimeAsync(1_000);
    task.exit(0);
    expect(await finish()).toMatchObject({ cause: 'cpu-time', cpuMs: 2_000 });
  });
});

describe('supervise: the outcome', () => {
  it('reports the task, its start, its exit and its output', async () => {
    const startedAt = '2026-12-01T10:00:02.000Z';
    const { task, logFile, finish } = await start({ startedAt });
    await appendLog(logFile, [{ stream: 'stdout', data: 'one' }, { stream: 'stderr', data: 'two' }, { stream: 'stdout', data: 'thr', partial: true }]);
    task.exit(0);
    expect(await finish()).toEqual({
      taskId: task.id,
      namespace: 'default',
      startedAt,
      exit: { pid: 4242, status: 0, signal: null, exitedAt: expect.any(String), reason: 'exited' },
      cause: 'exited',
      cpuMs: 0,
      peakMemoryBytes: 0,
      stdout: 'one\nthr',
      stderr: 'two\n',
      stdoutTruncated: false,
      stderrTruncated: false,
      logPath: null,
      lockLost: false,
    });
  });

  it('caps each stream at outputBytes, says so once per stream, and flags the outcome', async () => {
    const { task, logFile, events, finish } = await start({ options: { outputBytes: 8 } });
    await appendLog(logFile, [
      { stream: 'stdout', data: '0123456789' },
      { stream: 'stdout', data: 'more' },
      { stream: 'stderr', data: 'err' },
    ]);
    task.exit(0);
    expect(await finish()).toMatchObject({ stdout: '01234567', stdoutTruncated: true, stderr: 'err\n', stderrTruncated: false });
    expect(events.filter((e) => e.type === 'output-truncated')).toEqual([{ type: 'output-truncated', stream: 'stdout' }]);
  });

  it('streams what it keeps over the port when asked to, and nothing when not', async () => {
    for (const streamLogs of [true, false]) {
      const { task, logFile, events, finish, close } = await start({ options: { streamLogs } });
      await appendLog(logFile, [{ stream: 'stdout', data: 'hi' }]);
      task.exit(0);
      await finish();
      const lines = events.flatMap((e) => (e.type === 'log' ? e.lines : []));
      expect(lines).toEqual(streamLogs ? [{ stream: 'stdout', data: 'hi\n', partial: false }] : []);
      await close();
    }
  });

  it('after a restart, streams only what was written since it attached but keeps all of it in the outcome', async () => {
    const { task, logFile, events, finish } = await start({
      streamSince: '2026-12-01T10:00:00.000Z',
      options: { streamLogs: true },
      log: [{ stream: 'stdout', data: 'before', time: '2026-12-01T09:59:59.000Z' }],
    });
    await appendLog(logFile, [{ stream: 'stdout', data: 'after', time: '2026-12-01T10:00:01.000Z' }]);
    task.exit(0);
    expect((await finish()).stdout).toBe('before\nafter\n');
    expect(events.flatMap((e) => (e.type === 'log' ? e.lines.map((l) => l.data) : []))).toEqual(['after\n']);
  });

  it('keeps a non-empty log under logsDir/<namespace>/<id>.log and names it in the outcome', async () => {
    const { task, logFile, dir, finish } = await start({ options: { keepLogs: true } });
    await appendLog(logFile, [{ stream: 'stdout', data: 'kept' }]);
    task.exit(0);
    const { logPath } = await finish();
    expect(logPath).toBe(path.join(dir, 'logs', 'default', `${task.id}.log`));
    expect(await fs.readFile(logPath!, 'utf8')).toBe(await fs.readFile(logFile, 'utf8'));
  });

  it('keeps no log of a task that wrote nothing', async () => {
    const { task, finish } = await start({ options: { keepLogs: true } });
    task.exit(0);
    expect((await finish()).logPath).toBeNull();
  });

  it('writes the job\'s stdin, then closes it', async () => {
    const { task, finish } = await start({ stdin: 'input' });
    task.exit(0);
    await finish();
    expect(task.calls.filter((c) => c.op === 'writeStdin' || c.op === 'closeIO')).toEqual([
      { op: 'writeStdin', args: ['input'] },
      { op: 'closeIO', args: [] },
    ]);
  });

  it('closes an empty stdin without writing to it', async () => {
    const { task, finish } = await start({ stdin: '' });
    task.exit(0);
    await finish();
    expect(task.ops().filter((op) => op === 'writeStdin' || op === 'closeIO')).toEqual(['closeIO']);
  });

  it('reports usage samples on the port and the largest of them in the outcome', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    const task = new FakeTask();
    task.usage = { cpuMs: 10.4, memoryBytes: 100, peakMemoryBytes: 300 };
    const { events, finish } = await start({ options: { statsIntervalMs: 1_000 } }, task);
    await vi.advanceTimersByTimeAsync(1_000);
    task.usage = { cpuMs: 20.6, memoryBytes: 50, peakMemoryBytes: 200 };
    await vi.advanceTimersByTimeAsync(1_000);
    task.exit(0);
    expect(await finish()).toMatchObject({ cpuMs: 21, peakMemoryBytes: 300 });
    expect(events.filter((e) => e.type === 'stats')).toEqual([
      { type: 'stats', cpuMs: 10.4, peakMemoryBytes: 300, memoryBytes: 100 },
      { type: 'stats', cpuMs: 20.6, peakMemoryBytes: 200, memoryBytes: 50 },
    ]);
  });

  it('when waiting fails, kills the task and waits again', async () => {
    const task = new FakeTask();
    task.waitErrors = [errors.unavailable('inotify gone')];
    const { finish } = await start({}, task);
    expect(await finish()).toMatchObject({ exit: { status: 137, signal: 'SIGKILL' } });
    expect(task.ops().filter((op) => op === 'wait' || op === 'kill')).toEqual(['wait', 'kill', 'wait']);
  });

  it('when waiting fails twice, rejects with the first error and leaves the task for recovery', async () => {
    const task = new FakeTask();
    task.waitErrors = [errors.unavailable('first'), errors.unavailable('second')];
    const { run, events } = await start({}, task);
    await expect(run).rejects.toThrow('first');
    expect(task.ops()).not.toContain('delete');
    expect(events.filter((e) => e.type === 'outcome')).toEqual([]);
  });
});
