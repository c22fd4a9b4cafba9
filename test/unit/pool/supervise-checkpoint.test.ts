import { describe, expect, it, vi } from 'vitest';
import { settle } from '../../helpers/settle.js';
import { supervisions } from '../../helpers/supervision.js';

const start = supervisions();

describe('supervise: checkpoint-failed events', () => {
  it('answers a preempt with checkpoint-failed (ERR_FAILED_PRECONDITION) when checkpoints are not enabled', async () => {
    const { task, send, next, finish } = await start();
    send({ type: 'preempt', reason: 'migrate', requestId: 'r1' });
    expect(await next('checkpoint-failed')).toMatchObject({
      reason: 'migrate',
      requestId: 'r1',
      error: { code: 'ERR_FAILED_PRECONDITION', message: expect.stringMatching(/checkpoints are not enabled/) },
    });
    expect(task.ops()).not.toContain('checkpoint');
    task.exit(0);
    expect((await finish()).cause).toBe('exited');
  });

  it('answers a preempt that arrived before supervision began the same way', async () => {
    const { task, next, finish } = await start({ pendingPreempt: { reason: 'drain', requestId: 'r0' } });
    expect(await next('checkpoint-failed')).toMatchObject({ reason: 'drain', requestId: 'r0', error: { code: 'ERR_FAILED_PRECONDITION' } });
    task.exit(0);
    await finish();
  });

  it('answers a preempt of a task that is stopping with checkpoint-failed, and takes no checkpoint', async () => {
    const { task, send, next, finish } = await start({ checkpoints: {} });
    send({ type: 'stop', reason: 'cancelled', graceMs: 60_000 });
    send({ type: 'preempt', reason: 'drain', requestId: 'r2' });
    expect(await next('checkpoint-failed')).toMatchObject({ requestId: 'r2', error: { message: 'the task is stopping' } });
    task.exit(143);
    expect(await finish()).toMatchObject({ cause: 'cancelled', checkpoints: [] });
    expect(task.ops()).not.toContain('checkpoint');
  });

  it('reports a failed preempt checkpoint with the runtime\'s error, and the task runs on to its own end', async () => {
    const { task, send, next, finish } = await start({ checkpoints: {} });
    send({ type: 'preempt', reason: 'migrate', requestId: 'r3' });
    expect(await next('checkpoint-failed')).toMatchObject({
      reason: 'migrate',
      requestId: 'r3',
      error: { code: 'ERR_CHECKPOINT', details: { criuLog: '/fake/work/dump.log' } },
    });
    expect(task.calls.find((c) => c.op === 'checkpoint')?.args[1]).toEqual({ leaveRunning: false });
    expect(task.signals()).toEqual([]);
    task.exit(0);
    const outcome = await finish();
    expect(outcome).toMatchObject({ cause: 'exited', checkpoints: [] });
    expect(outcome.preempted).toBeUndefined();
  });

  it('reports a failed periodic checkpoint without a requestId, and keeps the task running', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const { task, next, events, finish } = await start({ checkpoints: { everySeconds: 30 } });
    await vi.advanceTimersByTimeAsync(30_000);
    const failed = await next('checkpoint-failed');
    expect(failed).toMatchObject({ reason: 'periodic', error: { code: 'ERR_CHECKPOINT' } });
    expect(failed).not.toHaveProperty('requestId');
    expect(task.calls.find((c) => c.op === 'checkpoint')?.args[1]).toEqual({ leaveRunning: true });
    expect(task.signals()).toEqual([]);
    task.exit(0);
    expect((await finish()).cause).toBe('exited');
    expect(events.filter((e) => e.type === 'checkpoint')).toEqual([]);
  });

  it('takes no periodic checkpoint during the grace of a stop that arrived before supervision began', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const { task, finish } = await start({ checkpoints: { everySeconds: 1 }, pendingStop: 'cancelled', options: { killGraceMs: 10_000 } });
    await settle();
    expect(task.signals()).toEqual(['SIGTERM']);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(task.signals()).toEqual(['SIGTERM', 'SIGKILL']);
    // supervise waits for checkpoints in flight before it reports: none may have been started.
    expect(await finish()).toMatchObject({ cause: 'cancelled', checkpoints: [] });
    expect(task.ops()).not.toContain('checkpoint');
  });
});
