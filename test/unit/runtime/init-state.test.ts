import { describe, expect, it } from 'vitest';
import { INIT_OPERATIONS, initState, type InitOps } from '../../../src/runtime/init-state.js';
import { STATUSES } from '../../../src/runtime/transitions.js';
import type { Status } from '../../../src/runtime/task.js';

type Op = (typeof INIT_OPERATIONS)[number];

function fakeOps(calls: string[]): InitOps {
  const rec = (name: string) => async () => {
    calls.push(name);
    return undefined as never;
  };
  return {
    start: rec('start'), kill: rec('kill'), pause: rec('pause'), resume: rec('resume'), exec: rec('exec'),
    pids: rec('pids'), stats: rec('stats'), update: rec('update'), checkpoint: rec('checkpoint'),
    delete: rec('delete'), resizePty: rec('resizePty'), closeIO: rec('closeIO'), writeStdin: rec('writeStdin'),
  };
}

const ALLOWED: Record<Status, Op[]> = {
  created: ['start', 'kill', 'delete', 'pids', 'stats', 'update', 'resizePty', 'closeIO', 'writeStdin'],
  running: ['kill', 'pause', 'exec', 'pids', 'stats', 'update', 'checkpoint', 'resizePty', 'closeIO', 'writeStdin'],
  pausing: ['kill', 'pids', 'stats'],
  paused: ['kill', 'resume', 'pids', 'stats', 'update', 'checkpoint', 'resizePty', 'closeIO', 'writeStdin'],
  stopped: ['delete'],
  deleted: [],
};

function call(s: ReturnType<typeof initState>, op: Op): Promise<unknown> {
  switch (op) {
    case 'kill': return s.kill('KILL', false);
    case 'exec': return s.exec('e1', { args: ['true'] });
    case 'update': return s.update({ pids: 10 });
    case 'checkpoint': return s.checkpoint('/tmp/ck', {});
    case 'resizePty': return s.resizePty({ width: 80, height: 24 });
    case 'writeStdin': return s.writeStdin('x');
    default: return (s[op] as () => Promise<unknown>)();
  }
}

describe('task state objects', () => {
  for (const status of STATUSES) {
    for (const op of INIT_OPERATIONS) {
      const allowed = ALLOWED[status].includes(op);
      it(`${op}() on a ${status} task ${allowed ? 'reaches the runtime' : 'fails with ERR_FAILED_PRECONDITION'}`, async () => {
        const calls: string[] = [];
        const s = initState(status, fakeOps(calls));
        expect(s.status).toBe(status);
        if (allowed) {
          await call(s, op);
          expect(calls).toEqual([op]);
        } else {
          await expect(call(s, op)).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION' });
          expect(calls).toEqual([]);
        }
      });
    }
  }

  it('says "cannot pause a stopped task"', async () => {
    await expect(initState('stopped', fakeOps([])).pause()).rejects.toThrow('cannot pause a stopped task');
  });

  it('tells why a running task cannot be deleted and a paused one cannot exec', async () => {
    await expect(initState('running', fakeOps([])).delete()).rejects.toThrow(/cannot delete a running task \(kill it/);
    await expect(initState('paused', fakeOps([])).exec('x', { args: ['true'] })).rejects.toThrow(/cannot exec a paused task \(resume it first\)/);
  });

  it('passes the status a task is deleted in to the runtime', async () => {
    const seen: Status[] = [];
    const ops = { ...fakeOps([]), delete: async (from: Status) => (seen.push(from), undefined) };
    await initState('created', ops).delete();
    await initState('stopped', ops).delete();
    expect(seen).toEqual(['created', 'stopped']);
  });
});
