import { describe, expect, it } from 'vitest';
import {
  exitCodeOf,
  GLOBAL_OPTIONS,
  isUsageError,
  onePositional,
  parseCommandArgs,
  parseEnvList,
  parseIntFlag,
  parseKeyValues,
  parseSignal,
  resolveGlobals,
  takeLeadingGlobals,
  wantsHelp,
} from '../../../src/cli/args.js';

const options = { ...GLOBAL_OPTIONS, id: { type: 'string' }, env: { type: 'string', multiple: true }, tty: { type: 'boolean' } } as const;

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('parseCommandArgs', () => {
  it('splits flags, positionals and the command after --', () => {
    const r = parseCommandArgs(['--id', 'a', 'x', '--env', 'A=1', '--env', 'B=2', '--', 'sh', '-c', 'echo --id'], options);
    expect(r.values.id).toBe('a');
    expect(r.values.env).toEqual(['A=1', 'B=2']);
    expect(r.positionals).toEqual(['x']);
    expect(r.rest).toEqual(['sh', '-c', 'echo --id']);
    expect(r.hasRest).toBe(true);
  });

  it('keeps flags after -- as part of the command', () => {
    const r = parseCommandArgs(['--', 'ls', '--tty', '-l'], options);
    expect(r.values.tty).toBeUndefined();
    expect(r.rest).toEqual(['ls', '--tty', '-l']);
  });

  it('returns an empty rest when there is no --', () => {
    const r = parseCommandArgs(['id1', '--json'], options);
    expect(r.rest).toEqual([]);
    expect(r.hasRest).toBe(false);
    expect(r.values.json).toBe(true);
  });

  it('rejects an unknown flag with a usage error naming it', () => {
    const e = thrown(() => parseCommandArgs(['--bogus'], options));
    expect(isUsageError(e)).toBe(true);
    expect((e as Error).message).toBe("unknown option '--bogus'");
  });

  it('rejects a string flag without a value', () => {
    expect(isUsageError(thrown(() => parseCommandArgs(['--id'], options)))).toBe(true);
  });

  it('accepts -n as the namespace', () => {
    expect(parseCommandArgs(['-n', 'ns1'], options).values.namespace).toBe('ns1');
  });
});

describe('resolveGlobals', () => {
  it('prefers flags over the environment over defaults', () => {
    expect(resolveGlobals({}, {})).toEqual({ stateDir: '/var/lib/stasis', namespace: 'default', json: false });
    expect(resolveGlobals({}, { STASIS_STATE_DIR: '/s', STASIS_NAMESPACE: 'e' })).toEqual({ stateDir: '/s', namespace: 'e', json: false });
    expect(resolveGlobals({ 'state-dir': '/f', namespace: 'f', json: true }, { STASIS_STATE_DIR: '/s' })).toEqual({
      stateDir: '/f',
      namespace: 'f',
      json: true,
    });
  });

  it('rejects a namespace that cannot be a directory name', () => {
    expect(isUsageError(thrown(() => resolveGlobals({ namespace: '../x' }, {})))).toBe(true);
  });
});

describe('takeLeadingGlobals', () => {
  it('moves --state-dir and -n before the command name into the environment', () => {
    const r = takeLeadingGlobals(['--state-dir', '/d', '-n', 'ns', 'task', 'list', '--json'], { A: '1' });
    expect(r.argv).toEqual(['task', 'list', '--json']);
    expect(r.env).toEqual({ A: '1', STASIS_STATE_DIR: '/d', STASIS_NAMESPACE: 'ns' });
  });

  it('understands --state-dir=DIR', () => {
    expect(takeLeadingGlobals(['--state-dir=/d', 'doctor'], {}).env.STASIS_STATE_DIR).toBe('/d');
  });

  it('leaves arguments alone when no global comes first', () => {
    expect(takeLeadingGlobals(['task', 'list', '--state-dir', '/d'], {}).argv).toEqual(['task', 'list', '--state-dir', '/d']);
  });

  it('fails when a leading global has no value', () => {
    expect(isUsageError(thrown(() => takeLeadingGlobals(['--state-dir'], {})))).toBe(true);
  });
});

describe('small parsers', () => {
  it('wantsHelp only looks before --', () => {
    expect(wantsHelp(['x', '--help'])).toBe(true);
    expect(wantsHelp(['-h'])).toBe(true);
    expect(wantsHelp(['--', 'ls', '--help'])).toBe(false);
  });

  it('onePositional wants exactly one', () => {
    expect(onePositional(['a'], 'task id')).toBe('a');
    expect((thrown(() => onePositional([], 'task id')) as Error).message).toBe('missing task id');
    expect(isUsageError(thrown(() => onePositional(['a', 'b'], 'task id')))).toBe(true);
  });

  it('parseKeyValues and parseEnvList take KEY=VALUE, values may hold =', () => {
    expect(parseKeyValues(['a=1', 'b=x=y', 'c='], 'annotation')).toEqual({ a: '1', b: 'x=y', c: '' });
    expect(parseEnvList(['PATH=/bin', 'X=1'])).toEqual(['PATH=/bin', 'X=1']);
    expect((thrown(() => parseEnvList(['NOEQ'])) as Error).message).toContain('`--env` to be KEY=VALUE');
    expect(isUsageError(thrown(() => parseEnvList(['=v'])))).toBe(true);
  });

  it('parseIntFlag accepts whole numbers within bounds', () => {
    expect(parseIntFlag(undefined, 'pids')).toBeUndefined();
    expect(parseIntFlag('64', 'pids')).toBe(64);
    for (const bad of ['0', '-1', '1.5', 'ten', '']) expect(isUsageError(thrown(() => parseIntFlag(bad, 'pids')))).toBe(true);
    expect(isUsageError(thrown(() => parseIntFlag('70000', 'width', 1, 65535)))).toBe(true);
  });

  it('parseSignal normalises names and keeps numbers', () => {
    expect(parseSignal(undefined)).toBe('SIGTERM');
    expect(parseSignal('kill')).toBe('SIGKILL');
    expect(parseSignal('SIGUSR1')).toBe('SIGUSR1');
    expect(parseSignal('9')).toBe(9);
    expect(isUsageError(thrown(() => parseSignal('0')))).toBe(true);
    expect(isUsageError(thrown(() => parseSignal('no such')))).toBe(true);
  });

  it('exitCodeOf maps statuses to process exit codes', () => {
    expect(exitCodeOf(0)).toBe(0);
    expect(exitCodeOf(137)).toBe(137);
    expect(exitCodeOf(-1)).toBe(255);
    expect(exitCodeOf(300)).toBe(255);
  });
});
