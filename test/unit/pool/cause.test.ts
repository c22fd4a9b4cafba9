import { describe, expect, it } from 'vitest';
import { causeOf, failedToStart } from '../../../src/pool/worker/cause.js';
import type { Exit } from '../../../src/runtime/task.js';

const exit = (o: Partial<Exit> = {}): Exit => ({ pid: 1, status: 0, signal: null, exitedAt: '2026-12-01T10:00:05.000Z', reason: 'exited', ...o });

describe('causeOf', () => {
  it('is timeout when the lifecycle stopped it for its deadline, whatever it exited with', () => {
    expect(causeOf({ exit: exit({ status: 0 }), stopped: 'timeout', preempted: false })).toBe('timeout');
  });

  it('is cpu-time when stopped for CPU time, or when the kernel sent SIGXCPU under a CPU-time limit', () => {
    expect(causeOf({ exit: exit({ status: 137, signal: 'SIGKILL' }), stopped: 'cpu-time', preempted: false })).toBe('cpu-time');
    expect(causeOf({ exit: exit({ status: 152, signal: 'SIGXCPU' }), stopped: null, preempted: false, cpuTimeSeconds: 2 })).toBe('cpu-time');
  });

  it('is cancelled for a cancel, a lost lock or a shutdown', () => {
    for (const s of ['cancelled', 'lock-lost', 'shutdown'] as const) expect(causeOf({ exit: exit(), stopped: s, preempted: false })).toBe('cancelled');
  });

  it('keeps the exit when the task ended before a deadline noticed late (a restart)', () => {
    expect(causeOf({ exit: exit({ status: 5 }), stopped: null, preempted: false, timeoutAt: '2026-12-01T10:00:06.000Z' })).toBe('exited');
  });

  it('is timeout when the task ran past its deadline while no node watched it', () => {
    expect(causeOf({ exit: exit({ status: 0 }), stopped: null, preempted: false, timeoutAt: '2026-12-01T10:00:04.000Z' })).toBe('timeout');
  });

  it('takes oom, the monitor timeout and a lost monitor from the exit record', () => {
    expect(causeOf({ exit: exit({ reason: 'oom', status: 137 }), stopped: null, preempted: false })).toBe('oom');
    expect(causeOf({ exit: exit({ reason: 'timeout', status: 137 }), stopped: null, preempted: false })).toBe('timeout');
    expect(causeOf({ exit: exit({ reason: 'lost', status: 255 }), stopped: null, preempted: false })).toBe('lost');
  });

  it('is failed-to-start for the launch script\'s own 127/126 report', () => {
    const line = 'stasis: cannot start: nope: command not found';
    expect(causeOf({ exit: exit({ status: 127 }), stopped: null, preempted: false, firstStderr: line })).toBe('failed-to-start');
    expect(causeOf({ exit: exit({ status: 127 }), stopped: null, preempted: false, firstStderr: 'sh: nope: not found' })).toBe('exited');
    expect(failedToStart(exit({ status: 1 }), line)).toBe(false);
  });

  it('is preempted before anything else', () => {
    expect(causeOf({ exit: exit({ status: 137 }), stopped: 'cancelled', preempted: true })).toBe('preempted');
  });
});
