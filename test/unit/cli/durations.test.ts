import { describe, expect, it } from 'vitest';
import { millisFlag, secondsFlag } from '../../../src/cli/durations.js';
import { ackTimeoutFrom } from '../../../src/cli/job-control-cli.js';
import { isUsageError } from '../../../src/cli/args.js';
import { createOptionsFromArgs } from '../../../src/cli/commands/task-create.js';
import { execOptionsFromFlags } from '../../../src/cli/commands/job-exec.js';

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('durations on the command line', () => {
  it('secondsFlag takes units, and a plain number is seconds', () => {
    expect(secondsFlag('30', '--timeout')).toBe(30);
    expect(secondsFlag('1.5s', '--timeout')).toBe(1.5);
    expect(secondsFlag('2m', '--timeout')).toBe(120);
    expect(secondsFlag('500ms', '--timeout')).toBe(0.5);
    expect(secondsFlag('0', '--kill-grace', { allowZero: true })).toBe(0);
    expect(isUsageError(thrown(() => secondsFlag('0', '--timeout')))).toBe(true);
  });

  it('millisFlag takes units, and a plain whole number is milliseconds', () => {
    expect(millisFlag('30000', '--drain-timeout')).toBe(30_000);
    expect(millisFlag('30s', '--drain-timeout')).toBe(30_000);
    expect(millisFlag('1m', '--drain-timeout')).toBe(60_000);
    expect(millisFlag('500ms', '--drain-timeout')).toBe(500);
    expect(millisFlag('1.5s', '--drain-timeout')).toBe(1500);
    expect(millisFlag('0', '--kill-grace', { allowZero: true })).toBe(0);
  });

  it('millisFlag refuses fractions without a unit, unknown units, negatives and 0 where not allowed', () => {
    for (const bad of ['1.5', '5 parsecs', '-1', '', 'ms', '0']) {
      const e = thrown(() => millisFlag(bad, '--drain-timeout'));
      expect(isUsageError(e), bad).toBe(true);
      expect((e as Error).message).toContain('whole number of milliseconds');
    }
  });

  it('--ack-timeout takes a duration, a plain number being milliseconds, up to an hour', () => {
    expect(ackTimeoutFrom(undefined)).toBeUndefined();
    expect(ackTimeoutFrom('1000')).toBe(1000);
    expect(ackTimeoutFrom('10s')).toBe(10_000);
    expect(isUsageError(thrown(() => ackTimeoutFrom('2h')))).toBe(true);
  });

  it('task create --timeout takes units; a plain number is still seconds', () => {
    expect(createOptionsFromArgs(['--id', 't', '--timeout', '2m', '--', 'true']).opts.timeoutSeconds).toBe(120);
    expect(createOptionsFromArgs(['--id', 't', '--timeout', '30', '--', 'true']).opts.timeoutSeconds).toBe(30);
  });

  it('job exec --timeout takes units', () => {
    expect(execOptionsFromFlags({ timeout: '2m' })).toEqual({ timeoutMs: 120_000 });
    expect(execOptionsFromFlags({ timeout: '250ms' })).toEqual({ timeoutMs: 250 });
  });
});
