import { describe, expect, it } from 'vitest';
import { parseOptions, isUsageError } from '../../../src/cli/args.js';
import { SERVE_OPTIONS, policyFlags, runnerSettings } from '../../../src/cli/serve-options.js';
import { hasCode } from '../../../src/errors.js';

const flags = (...args: string[]) => parseOptions(args, SERVE_OPTIONS).values;

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('stasis serve settings', () => {
  it('no flags and no environment leave every runner setting to its default', () => {
    expect(runnerSettings(flags(), {})).toEqual({});
  });

  it('the four timings take durations with units', () => {
    const r = runnerSettings(flags('--kill-grace', '500ms', '--lock-duration', '1m', '--drain-timeout', '30s', '--stalled-interval', '1.5s'), {});
    expect(r).toEqual({ killGraceMs: 500, lockDurationMs: 60_000, drainTimeoutMs: 30_000, stalledIntervalMs: 1500 });
  });

  it('a plain number stays milliseconds for the four timings (as before)', () => {
    const r = runnerSettings(flags('--kill-grace', '2000', '--lock-duration', '30000', '--drain-timeout', '60000', '--stalled-interval', '45000'), {});
    expect(r).toEqual({ killGraceMs: 2000, lockDurationMs: 30_000, drainTimeoutMs: 60_000, stalledIntervalMs: 45_000 });
  });

  it('--kill-grace may be 0; the other timings may not', () => {
    expect(runnerSettings(flags('--kill-grace', '0'), {})).toEqual({ killGraceMs: 0 });
    expect(isUsageError(thrown(() => runnerSettings(flags('--drain-timeout', '0s'), {})))).toBe(true);
  });

  it('a timing that is not a duration is a usage error naming the flag', () => {
    for (const bad of ['soon', '1.5', '-5', '10 parsecs']) {
      const e = thrown(() => runnerSettings(flags(`--drain-timeout=${bad}`), {}));
      expect(isUsageError(e), bad).toBe(true);
      expect((e as Error).message).toContain('`--drain-timeout`');
    }
  });

  it('every runner flag has an environment variable', () => {
    const env = {
      REDIS_URL: 'redis://h:1',
      STASIS_QUEUE: 'q',
      STASIS_NODE_ID: 'n1',
      STASIS_CONCURRENCY: '4',
      STASIS_THREADS: '3',
      STASIS_KILL_GRACE_MS: '1s',
      STASIS_LOCK_DURATION_MS: '20000',
      STASIS_STALLED_INTERVAL: '10s',
      STASIS_DRAIN_TIMEOUT: '2m',
      STASIS_CHECKPOINT_DIR: '/srv/ckpt',
      STASIS_CHECKPOINT_KEEP: '5',
      STASIS_MAX_HAND_BACKS: '7',
    };
    expect(runnerSettings(flags(), env)).toEqual({
      redisUrl: 'redis://h:1',
      queue: 'q',
      nodeId: 'n1',
      concurrency: 4,
      threads: 3,
      killGraceMs: 1000,
      lockDurationMs: 20_000,
      stalledIntervalMs: 10_000,
      drainTimeoutMs: 120_000,
      checkpointDir: '/srv/ckpt',
      checkpointKeep: 5,
      maxHandBacks: 7,
    });
  });

  it('a flag beats its environment variable', () => {
    const env = { STASIS_THREADS: '3', STASIS_CHECKPOINT_KEEP: '5', STASIS_DRAIN_TIMEOUT: '2m', STASIS_STALLED_INTERVAL: '10s', STASIS_MAX_HAND_BACKS: '7' };
    const r = runnerSettings(flags('--threads', '1', '--checkpoint-keep', '1', '--drain-timeout', '5s', '--stalled-interval', '2000', '--max-hand-backs', '2'), env);
    expect(r).toEqual({ threads: 1, checkpointKeep: 1, drainTimeoutMs: 5000, stalledIntervalMs: 2000, maxHandBacks: 2 });
  });

  it('an empty environment variable counts as unset', () => {
    expect(runnerSettings(flags(), { STASIS_THREADS: '', STASIS_DRAIN_TIMEOUT: '' })).toEqual({});
  });

  it('a bad environment value names the variable and is not a usage error', () => {
    for (const [k, v] of [['STASIS_THREADS', 'two'], ['STASIS_DRAIN_TIMEOUT', 'later'], ['STASIS_MAX_HAND_BACKS', '0']] as const) {
      const e = thrown(() => runnerSettings(flags(), { [k]: v }));
      expect(hasCode(e, 'ERR_INVALID_ARGUMENT'), k).toBe(true);
      expect(isUsageError(e)).toBe(false);
      expect((e as Error).message).toContain(`\`${k}\``);
    }
  });

  it('a relative --checkpoint-dir is made absolute', () => {
    expect(runnerSettings(flags('--checkpoint-dir', 'ckpt'), {}).checkpointDir).toBe(`${process.cwd()}/ckpt`);
  });

  it('policy flags pass through as loadPolicy takes them', () => {
    expect(policyFlags(flags('--policy', 'p.json', '--allow-rootfs', '/a', '--allow-rootfs', '/b', '--allow-host-network', '--userns', 'host', '--seccomp', 'unconfined'))).toEqual({
      file: 'p.json',
      allowRootfs: ['/a', '/b'],
      allowHostNetwork: true,
      userns: 'host',
      seccomp: 'unconfined',
    });
    expect(policyFlags(flags())).toEqual({});
  });

  it('every serve flag shows an environment variable in the usage table', () => {
    const withoutEnv = Object.entries(SERVE_OPTIONS).filter(([name, s]) => name !== 'json' && !('env' in s));
    expect(withoutEnv).toEqual([]);
  });
});
