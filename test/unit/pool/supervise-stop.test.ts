import { beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeTask } from '../../helpers/fake-task.js';
import { supervisions } from '../../helpers/supervision.js';
import { settle } from '../../helpers/settle.js';

const start = supervisions();

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
});

describe('supervise: deadlines', () => {
  it('sends SIGTERM at the timeout, SIGKILL once the grace is over, and ends with cause timeout', async () => {
    const { task, finish } = await start({ options: { deadlines: { timeoutSeconds: 10 }, killGraceMs: 5_000 } });
    await vi.advanceTimersByTimeAsync(9_999);
    expect(task.signals()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(task.signals()).toEqual(['SIGTERM']);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(task.signals()).toEqual(['SIGTERM']);
    await vi.advanceTimersByTimeAsync(1);
    expect(task.signals()).toEqual(['SIGTERM', 'SIGKILL']);
    expect(await finish()).toMatchObject({ cause: 'timeout', exit: { status: 137, signal: 'SIGKILL' }, lockLost: false });
  });

  it('sends no SIGKILL to a task that ended on SIGTERM', async () => {
    const task = new FakeTask();
    task.diesOn = ['SIGTERM', 'SIGKILL'];
    const { finish } = await start({ options: { deadlines: { timeoutSeconds: 1 } } }, task);
    await vi.advanceTimersByTimeAsync(1_000);
    const outcome = await finish();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(task.signals()).toEqual(['SIGTERM']);
    expect(outcome).toMatchObject({ cause: 'timeout', exit: { signal: 'SIGTERM' } });
  });

  it('kills at once when the grace is 0', async () => {
    const { task, finish } = await start({ options: { deadlines: { timeoutSeconds: 1 }, killGraceMs: 0 } });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(task.signals()).toEqual(['SIGKILL']);
    expect((await finish()).cause).toBe('timeout');
  });

  it('counts the timeout from the job\'s first start, across hops', async () => {
    const firstStartedAt = new Date(Date.now() - 8_000).toISOString();
    const { task, finish } = await start({ options: { deadlines: { timeoutSeconds: 10, firstStartedAt }, killGraceMs: 0 } });
    await vi.advanceTimersByTimeAsync(1_999);
    expect(task.signals()).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(task.signals()).toEqual(['SIGKILL']);
    await finish();
  });

  it('leaves a task alone that already stopped when its deadline passes, and keeps the cause its exit gives', async () => {
    const task = new FakeTask();
    const { finish } = await start({ options: { deadlines: { timeoutSeconds: 10 } } }, task);
    await vi.advanceTimersByTimeAsync(5_000);
    const exitedAt = new Date().toISOString();
    task.status = 'stopped'; // the monitor recorded the exit; wait() has not returned yet
    await vi.advanceTimersByTimeAsync(5_000);
    expect(task.signals()).toEqual([]);
    task.exit(3, { exitedAt });
    expect(await finish()).toMatchObject({ cause: 'exited', exit: { status: 3 } });
  });

  it('signals every process of the task, not only its init', async () => {
    const { task, finish } = await start({ options: { deadlines: { timeoutSeconds: 1 }, killGraceMs: 0 } });
    await vi.advanceTimersByTimeAsync(1_000);
    expect(task.calls.find((c) => c.op === 'kill')?.args).toEqual(['SIGKILL', { all: true }]);
    await finish();
  });
});

describe('supervise: stop requests', () => {
  it('a cancel sends SIGTERM, then SIGKILL after the grace it names, and ends with cause cancelled', async () => {
    const { task, send, finish } = await start();
    send({ type: 'stop', reason: 'cancelled', graceMs: 3_000 });
    await settle();
    expect(task.signals()).toEqual(['SIGTERM']);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(task.signals()).toEqual(['SIGTERM', 'SIGKILL']);
    expect(await finish()).toMatchObject({ cause: 'cancelled', lockLost: false });
  });

  it('a shutdown ends with cause cancelled too', async () => {
    const { send, finish } = await start();
    send({ type: 'stop', reason: 'shutdown', graceMs: 0 });
    expect((await finish()).cause).toBe('cancelled');
  });

  it('a second stop during the grace sends nothing more', async () => {
    const { task, send, finish } = await start();
    send({ type: 'stop', reason: 'cancelled', graceMs: 3_000 });
    send({ type: 'stop', reason: 'shutdown', graceMs: 0 });
    await settle();
    expect(task.signals()).toEqual(['SIGTERM']);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(await finish()).toMatchObject({ cause: 'cancelled', lockLost: false });
  });

  it('lock-lost kills at once, whatever grace it names, and marks the outcome lockLost', async () => {
    const { task, send, finish } = await start();
    send({ type: 'stop', reason: 'lock-lost', graceMs: 5_000 });
    await settle();
    expect(task.signals()).toEqual(['SIGKILL']);
    expect(await finish()).toMatchObject({ cause: 'cancelled', lockLost: true });
  });

  it('lock-lost during a cancel\'s grace escalates to SIGKILL at once', async () => {
    const { task, send, finish } = await start();
    send({ type: 'stop', reason: 'cancelled', graceMs: 60_000 });
    await settle();
    send({ type: 'stop', reason: 'lock-lost', graceMs: 0 });
    await settle();
    expect(task.signals()).toEqual(['SIGTERM', 'SIGKILL']);
    expect(await finish()).toMatchObject({ cause: 'cancelled', lockLost: true });
  });

  it('a lock lost during a timeout\'s grace escalates to SIGKILL at once', async () => {
    const { task, send, finish } = await start({ options: { deadlines: { timeoutSeconds: 1 }, killGraceMs: 60_000 } });
    await vi.advanceTimersByTimeAsync(1_000);
    send({ type: 'stop', reason: 'lock-lost', graceMs: 0 });
    await settle();
    expect(task.signals()).toEqual(['SIGTERM', 'SIGKILL']);
    expect(await finish()).toMatchObject({ cause: 'cancelled', lockLost: true });
  });

  it('carries out a stop that arrived before supervision began, with the lifecycle\'s grace', async () => {
    const { task, finish } = await start({ pendingStop: 'cancelled', options: { killGraceMs: 2_000 } });
    await settle();
    expect(task.signals()).toEqual(['SIGTERM']);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(task.signals()).toEqual(['SIGTERM', 'SIGKILL']);
    expect((await finish()).cause).toBe('cancelled');
  });

  it('carries out a lock-lost that arrived before supervision began with an immediate SIGKILL', async () => {
    const { task, finish } = await start({ pendingStop: 'lock-lost' });
    await settle();
    expect(task.signals()).toEqual(['SIGKILL']);
    expect(await finish()).toMatchObject({ lockLost: true });
  });
});
