import { describe, expect, it, vi } from 'vitest';
import { FakeTask } from '../../helpers/fake-task.js';
import { supervisions } from '../../helpers/supervision.js';
import { isSettled, settle } from '../../helpers/settle.js';

const supervise = supervisions();
const start = (task?: FakeTask) => supervise({}, task);

describe('supervise: the release handshake', () => {
  it('sends the outcome first and deletes the stopped task only after the main thread says release', async () => {
    const { task, send, next, run } = await start();
    task.exit(0);
    const { outcome } = await next('outcome');
    await settle();
    expect(task.ops()).not.toContain('delete');
    expect(await isSettled(run)).toBe(false);
    send({ type: 'release' });
    expect(await run).toEqual(outcome);
    expect(task.ops().filter((op) => op === 'delete')).toEqual(['delete']);
  });

  it('is not released by other messages', async () => {
    const { task, send, next, run } = await start();
    task.exit(0);
    await next('outcome');
    send({ type: 'stop', reason: 'cancelled', graceMs: 0 });
    send({ type: 'preempt', reason: 'drain', requestId: 'r1' });
    expect(await isSettled(run)).toBe(false);
    expect(task.ops()).not.toContain('delete');
    send({ type: 'release' });
    await run;
  });

  it('takes a closed port as release: nobody is left to post the outcome from this thread', async () => {
    const { task, next, run, close } = await start();
    task.exit(0);
    await next('outcome');
    await close();
    await run;
    expect(task.ops()).toContain('delete');
  });

  /** A task whose first `failures` deletes fail, released after its exit. */
  async function releasedWithFailingDeletes(failures: number) {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] });
    const task = new FakeTask();
    task.deleteFailures = failures;
    const { send, next, run } = await start(task);
    task.exit(0);
    await next('outcome');
    send({ type: 'release' });
    await settle();
    return { task, run, deletes: () => task.ops().filter((op) => op === 'delete') };
  }

  it('tries a failed delete once more', async () => {
    const { task, run, deletes } = await releasedWithFailingDeletes(1);
    expect(deletes()).toEqual(['delete']);
    await vi.advanceTimersByTimeAsync(200);
    await run;
    expect(deletes()).toEqual(['delete', 'delete']);
    expect(task.status).toBe('deleted');
  });

  it('tries a failed delete three more times, 0.2, 0.5 and 1.5 s apart', async () => {
    const { task, run, deletes } = await releasedWithFailingDeletes(3);
    await vi.advanceTimersByTimeAsync(200 + 500);
    expect(deletes()).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1_500);
    await run;
    expect(deletes()).toHaveLength(4);
    expect(task.status).toBe('deleted');
  });

  it('rejects when every delete fails, after the outcome went out', async () => {
    const { run, deletes } = await releasedWithFailingDeletes(4);
    const failed = expect(run).rejects.toMatchObject({ code: 'ERR_RUNTIME' });
    await vi.advanceTimersByTimeAsync(200 + 500 + 1_500);
    await failed;
    expect(deletes()).toHaveLength(4);
  });
});
