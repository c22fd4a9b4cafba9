import { describe, expect, it } from 'vitest';
import { loadRunnerConfig } from '../../../src/config/runner.js';

describe('loadRunnerConfig', () => {
  it('uses defaults, then environment, then explicit options', () => {
    expect(loadRunnerConfig({}, {})).toMatchObject({ queue: 'stasis', concurrency: 8, lockDurationMs: 30_000, killGraceMs: 2_000, maxLogBytes: 64 * 1024 * 1024, keepLogs: true });
    const env = { REDIS_URL: 'redis://r:6379', STASIS_QUEUE: 'q1', STASIS_NODE_ID: 'n-env', STASIS_CONCURRENCY: '3' };
    expect(loadRunnerConfig({}, env)).toMatchObject({ redisUrl: 'redis://r:6379', queue: 'q1', nodeId: 'n-env', concurrency: 3 });
    expect(loadRunnerConfig({ queue: 'q2', concurrency: 5 }, env)).toMatchObject({ queue: 'q2', concurrency: 5 });
  });

  it('rejects bad values naming the field', () => {
    expect(() => loadRunnerConfig({}, { STASIS_CONCURRENCY: 'lots' })).toThrow(/STASIS_CONCURRENCY/);
    expect(() => loadRunnerConfig({ queue: 'a b' }, {})).toThrow(/`queue`/);
    expect(() => loadRunnerConfig({ concurrency: 0 }, {})).toThrow(/`concurrency`/);
  });

  it('reads the timing variables as serve does: milliseconds, or a duration', () => {
    expect(loadRunnerConfig({}, { STASIS_KILL_GRACE_MS: '2500', STASIS_LOCK_DURATION_MS: '45s' })).toMatchObject({ killGraceMs: 2500, lockDurationMs: 45_000 });
    expect(() => loadRunnerConfig({}, { STASIS_LOCK_DURATION_MS: 'soon' })).toThrow(/STASIS_LOCK_DURATION_MS/);
  });
});
