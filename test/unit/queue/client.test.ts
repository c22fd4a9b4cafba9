import { describe, expect, it } from 'vitest';
import { DEFAULT_QUEUE, failedJobError, queueNameFrom, toJobResult } from '../../../src/queue/client.js';

const envelope = {
  jobId: '1', attempt: 0, nodeId: 'n', taskId: '1-0', namespace: 'default', status: 'exited', exitStatus: 0, signal: null,
  reason: 'exited', startedAt: 't', exitedAt: 't', wallMs: 1, cpuMs: 1, peakMemoryBytes: 1, stdout: '', stderr: '',
  stdoutTruncated: false, stderrTruncated: false, logPath: null, checkpoints: [],
};

describe('queueNameFrom', () => {
  it('takes the explicit name, then STASIS_QUEUE, then stasis', () => {
    expect(queueNameFrom('q1', { STASIS_QUEUE: 'q2' })).toBe('q1');
    expect(queueNameFrom(undefined, { STASIS_QUEUE: 'q2' })).toBe('q2');
    expect(queueNameFrom(undefined, {})).toBe(DEFAULT_QUEUE);
    expect(DEFAULT_QUEUE).toBe('stasis');
  });
});

describe('toJobResult', () => {
  it('accepts the envelope as an object or as JSON text', () => {
    expect(toJobResult(envelope)).toEqual(envelope);
    expect(toJobResult(JSON.stringify(envelope))).toEqual(envelope);
  });
  it('returns null for anything that is not an envelope', () => {
    expect(toJobResult(null)).toBeNull();
    expect(toJobResult('not json')).toBeNull();
    expect(toJobResult({ exitCode: 0 })).toBeNull();
  });
});

describe('failedJobError', () => {
  it("keeps the runner's error category from `<code>: <message>`", () => {
    const e = failedJobError('5', 'ERR_INVALID_ARGUMENT: invalid job payload: Unknown field: `x`', 1);
    expect(e.code).toBe('ERR_INVALID_ARGUMENT');
    expect(e.message).toBe('job 5 failed: ERR_INVALID_ARGUMENT: invalid job payload: Unknown field: `x`');
    expect(e.details).toEqual({ jobId: '5', failedReason: 'ERR_INVALID_ARGUMENT: invalid job payload: Unknown field: `x`', attemptsMade: 1 });
  });
  it('falls back to ERR_RUNTIME for other reasons', () => {
    expect(failedJobError('5', 'command exited with status 3', 1).code).toBe('ERR_RUNTIME');
    expect(failedJobError('5', 'ERR_BOGUS: x', 1).code).toBe('ERR_RUNTIME');
  });
});
