import { describe, expect, it } from 'vitest';
import { INIT_OPERATIONS } from '../../../src/runtime/init-state.js';
import type { Status, Task } from '../../../src/runtime/task.js';
import { STATUSES } from '../../../src/runtime/transitions.js';
import { fakeTasks } from '../../helpers/fake-task-dir.js';
import type { RuncVerb } from '../../helpers/fake-runc.js';

type Op = (typeof INIT_OPERATIONS)[number];

/** How the façade is asked for each operation (a checkpoint dir comes from the fixture). */
const CALL: Record<Op, (t: Task, dir: string) => Promise<unknown>> = {
  start: (t) => t.start(),
  kill: (t) => t.kill('KILL'),
  pause: (t) => t.pause(),
  resume: (t) => t.resume(),
  exec: (t) => t.exec('e1', { args: ['true'] }),
  pids: (t) => t.pids(),
  stats: (t) => t.stats(),
  update: (t) => t.update({ pids: 10 }),
  checkpoint: (t, dir) => t.checkpoint(dir, { rootfsDiff: false }),
  delete: (t) => t.delete(),
  resizePty: (t) => t.resizePty({ width: 80, height: 24 }),
  closeIO: (t) => t.closeIO(),
  writeStdin: (t) => t.writeStdin('x'),
};

/**
 * What runc is asked (besides the `state` of every observation) when the operation is allowed.
 * Absent: the status refuses it. 'no stdin': it reached the task, which has no stdin to close or write.
 */
const RUNC: Record<Status, Partial<Record<Op, RuncVerb[] | 'no stdin'>>> = {
  created: { start: ['start'], kill: ['kill'], delete: ['kill', 'delete'], pids: ['ps'], stats: ['stats'], update: ['update'], resizePty: [], closeIO: 'no stdin', writeStdin: 'no stdin' },
  running: { kill: ['kill'], pause: ['pause'], exec: [], pids: ['ps'], stats: ['stats'], update: ['update'], checkpoint: ['checkpoint'], resizePty: [], closeIO: 'no stdin', writeStdin: 'no stdin' },
  pausing: { kill: ['kill'], pids: ['ps'], stats: ['stats'] },
  paused: { kill: ['kill'], resume: ['resume'], pids: ['ps'], stats: ['stats'], update: ['update'], checkpoint: ['checkpoint'], resizePty: [], closeIO: 'no stdin', writeStdin: 'no stdin' },
  stopped: { delete: ['delete'] },
  deleted: {},
};

const open = fakeTasks();

describe('TaskProcess over a fake runc', () => {
  for (const status of STATUSES) {
    for (const op of INIT_OPERATIONS) {
      const expected = RUNC[status][op];
      const what = expected === undefined ? 'is refused with ERR_FAILED_PRECONDITION' : expected === 'no stdin' ? 'reaches the task' : `asks runc for ${expected.join(', ') || 'nothing'}`;
      it(`${op}() on a ${status} task ${what}`, async () => {
        const t = await open({ status, terminal: op === 'resizePty' });
        const call = CALL[op](t.task, t.scratch('ck'));
        if (expected === undefined) {
          await expect(call).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION', message: expect.stringMatching(new RegExp(`^cannot .* a ${status} task`)) });
          expect(t.runc.verbs()).toEqual([]);
        } else if (expected === 'no stdin') {
          await expect(call).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION', message: expect.stringMatching(/created without stdin/) });
          expect(t.runc.verbs()).toEqual([]);
        } else {
          await call;
          expect(t.runc.verbs()).toEqual(expected);
        }
      });
    }
  }

  it('asks runc nothing at all about a deleted task', async () => {
    const t = await open({ status: 'deleted' });
    await expect(t.task.pause()).rejects.toThrow('cannot pause a deleted task');
    expect(await t.task.state()).toMatchObject({ status: 'deleted', pid: 0 });
    expect(t.runc.calls).toEqual([]);
  });

  it('says "cannot pause a stopped task" for a task whose monitor recorded its exit', async () => {
    const t = await open({ status: 'stopped', exitStatus: 3 });
    await expect(t.task.pause()).rejects.toThrow('cannot pause a stopped task');
    expect(await t.task.state()).toMatchObject({ status: 'stopped', exitStatus: 3 });
  });

  it('derives each status from the fake runc and monitor the way it does from the real ones', async () => {
    for (const status of STATUSES) {
      const t = await open({ status });
      expect((await t.task.state()).status).toBe(status);
    }
  });
});
