import { describe, expect, it } from 'vitest';
import { buildJobResult, buildNotStartedResult, isJobResult } from '../../../src/queue/result.js';

const meta = { jobId: '1', attempt: 0, nodeId: 'n', taskId: '1-0', namespace: 'default' };

describe('result envelope', () => {
  it('computes wallMs from startedAt and exitedAt', () => {
    const r = buildJobResult(meta, {
      startedAt: '2026-01-01T00:00:00.000Z',
      exitedAt: '2026-01-01T00:00:01.250Z',
      exitStatus: 137,
      signal: 'SIGKILL',
      reason: 'oom',
      cpuMs: 5,
      peakMemoryBytes: 10,
      stdout: '',
      stderr: 'Killed\n',
      stdoutTruncated: false,
      stderrTruncated: false,
      logPath: null,
    });
    expect(r).toMatchObject({ status: 'exited', wallMs: 1250, reason: 'oom', exitStatus: 137, checkpoints: [] });
    expect(isJobResult(r)).toBe(true);
  });

  it('describes a job that never started', () => {
    const r = buildNotStartedResult(meta, { name: 'StasisError', code: 'ERR_RUNTIME', message: 'x' });
    expect(r).toMatchObject({ status: 'not-started', reason: 'failed-to-start', exitStatus: null, exitedAt: null });
    expect(isJobResult({})).toBe(false);
  });
});
