import { describe, expect, it } from 'vitest';
import { parseJobPayload } from '../../../src/queue/job-schema.js';
import { hasCode, StasisError } from '../../../src/errors.js';

function failure(data: unknown): StasisError {
  try {
    parseJobPayload(data);
  } catch (e) {
    if (hasCode(e, 'ERR_INVALID_ARGUMENT')) return e as StasisError;
    throw e;
  }
  throw new Error('expected a failure');
}

describe('parseJobPayload', () => {
  it('ignores the envelope a failOnNonZero failure left in the data (a retry re-parses it)', () => {
    const p = parseJobPayload({ command: ['false'], failOnNonZero: true, stasisResult: { exitStatus: 1 } });
    expect(p).toEqual({ command: ['false'], failOnNonZero: true });
  });

  it('accepts a minimal payload and parses byte sizes and cpus', () => {
    const p = parseJobPayload({ command: ['true'], limits: { memory: '256m', cpus: '0.5', outputBytes: 1024 } });
    expect(p.command).toEqual(['true']);
    expect(p.limits).toEqual({ memory: 256 * 1024 * 1024, cpus: 0.5, outputBytes: 1024 });
  });

  it('lists every bad field by path in one error', () => {
    const e = failure({ command: [], limits: { memory: -1, cpus: 'lots', pids: 1.5 }, network: 'bridge' });
    expect(e.details.fields).toEqual(expect.arrayContaining(['command', 'limits.memory', 'limits.cpus', 'limits.pids', 'network']));
    expect(e.message).toContain('Expected `limits.memory` to be a byte size like `256m`, got `-1`');
    expect(e.message).toContain('limits.cpus');
  });

  it('rejects unknown keys, naming them', () => {
    const e = failure({ command: ['true'], image: 'alpine', limits: { swap: 1 } });
    expect(e.message).toContain('Unknown field: `image`');
    expect(e.message).toContain('`swap`');
  });

  it('rejects a missing command and non-object data', () => {
    expect(failure({}).message).toContain('`command`');
    expect(failure('true').code).toBe('ERR_INVALID_ARGUMENT');
    expect(failure(null).code).toBe('ERR_INVALID_ARGUMENT');
  });
});
