import { describe, expect, it } from 'vitest';
import { EXEC_OPERATIONS, execState, type ExecOps } from '../../../src/runtime/exec-state.js';
import type { Status } from '../../../src/runtime/task.js';

type Op = (typeof EXEC_OPERATIONS)[number];

const ALLOWED: Partial<Record<Status, Op[]>> = {
  created: ['start', 'delete'],
  running: ['kill', 'resizePty', 'closeIO', 'writeStdin'],
  stopped: ['delete'],
  deleted: [],
};

function fakeOps(calls: string[]): ExecOps {
  const rec = (name: string) => async () => {
    calls.push(name);
    return undefined as never;
  };
  return { start: rec('start'), kill: rec('kill'), delete: rec('delete'), resizePty: rec('resizePty'), closeIO: rec('closeIO'), writeStdin: rec('writeStdin') };
}

describe('exec state objects', () => {
  for (const [status, allowed] of Object.entries(ALLOWED) as [Status, Op[]][]) {
    for (const op of EXEC_OPERATIONS) {
      const ok = allowed.includes(op);
      it(`${op}() on a ${status} exec ${ok ? 'reaches the runtime' : 'fails with ERR_FAILED_PRECONDITION'}`, async () => {
        const calls: string[] = [];
        const s = execState(status, fakeOps(calls));
        const run = () =>
          op === 'kill' ? s.kill('TERM') : op === 'resizePty' ? s.resizePty({ width: 1, height: 1 }) : op === 'writeStdin' ? s.writeStdin('x') : s[op]();
        if (ok) {
          await run();
          expect(calls).toEqual([op]);
        } else {
          await expect(run()).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION' });
          expect(calls).toEqual([]);
        }
      });
    }
  }

  it('says "cannot delete a running exec process"', async () => {
    await expect(execState('running', fakeOps([])).delete()).rejects.toThrow('cannot delete a running exec process');
  });
});
