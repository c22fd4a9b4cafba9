import { describe, expect, it } from 'vitest';
import {
  aliasesOf,
  flagNames,
  flagOrEnv,
  formatOptions,
  formatUsage,
  parseConfig,
  wrap,
  type OptionSpecs,
} from '../../../src/cli/options.js';
import { isUsageError, parseOptions } from '../../../src/cli/args.js';

const table = {
  memory: { type: 'string', short: 'm', value: 'SIZE', help: 'memory limit', group: 'Limits' },
  pids: { type: 'string', value: 'N', help: 'most processes', group: 'Limits', env: 'X_PIDS', default: '64' },
  'pids-limit': { type: 'string', aliasOf: 'pids' },
  env: { type: 'string', short: 'e', multiple: true, value: 'K=V', help: 'environment variable' },
  environment: { type: 'string', multiple: true, aliasOf: 'env' },
  json: { type: 'boolean', help: 'print JSON' },
  old: { type: 'boolean', help: 'kept for old scripts', hidden: true },
} as const satisfies OptionSpecs;

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('option tables', () => {
  it('parseConfig keeps only type, short and multiple of every entry (help, env and defaults never reach parseArgs)', () => {
    expect(parseConfig(table)).toEqual({
      memory: { type: 'string', short: 'm' },
      pids: { type: 'string' },
      'pids-limit': { type: 'string' },
      env: { type: 'string', short: 'e', multiple: true },
      environment: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      old: { type: 'boolean' },
    });
  });

  it('parseOptions folds an alias into its target', () => {
    expect(parseOptions(['--pids-limit', '5'], table).values).toEqual({ pids: '5' });
    expect(parseOptions(['-e', 'A=1', '--environment', 'B=2', '--env', 'C=3'], table).values).toEqual({ env: ['A=1', 'C=3', 'B=2'] });
  });

  it('parseOptions refuses a single-valued option given under two names', () => {
    const e = thrown(() => parseOptions(['--pids', '1', '--pids-limit', '2'], table));
    expect(isUsageError(e)).toBe(true);
    expect((e as Error).message).toBe('`--pids-limit` is another name of `--pids`: give only one of them');
  });

  it('parseOptions does not apply displayed defaults: an absent flag stays undefined', () => {
    expect(parseOptions([], table).values.pids).toBeUndefined();
  });

  it('aliasesOf lists the other names of a flag', () => {
    expect(aliasesOf(table, 'pids')).toEqual(['pids-limit']);
    expect(aliasesOf(table, 'memory')).toEqual([]);
  });

  it('flagNames shows the short form, every long name and the value placeholder', () => {
    expect(flagNames(table, 'memory')).toBe('-m, --memory SIZE');
    expect(flagNames(table, 'pids')).toBe('    --pids, --pids-limit N');
    expect(flagNames(table, 'json')).toBe('    --json');
  });

  it('formatOptions lists flags by group in aligned columns, with repeatable, default and env', () => {
    expect(formatOptions(table)).toBe(
      [
        'Limits:',
        '  -m, --memory SIZE             memory limit',
        '      --pids, --pids-limit N    most processes [default: 64] [env: X_PIDS]',
        '',
        'Options:',
        '  -e, --env, --environment K=V  environment variable (repeatable)',
        '      --json                    print JSON',
      ].join('\n'),
    );
  });

  it('formatOptions puts the description under a name wider than the column', () => {
    const t = { 'a-very-long-option-name-indeed': { type: 'string', value: 'SOMETHING', help: 'long' }, b: { type: 'boolean', help: 'short' } } as const satisfies OptionSpecs;
    expect(formatOptions(t)).toBe(['Options:', '      --a-very-long-option-name-indeed SOMETHING', '           long', '      --b  short'].join('\n'));
  });

  it('formatOptions leaves hidden flags out', () => {
    expect(formatOptions(table)).not.toContain('--old');
  });

  it('formatOptions wraps long descriptions under their column and keeps [default: …] in one piece', () => {
    const t = { x: { type: 'string', value: 'V', help: 'word '.repeat(30).trim(), default: 'a b c d' } } as const satisfies OptionSpecs;
    const lines = formatOptions(t, 60).split('\n');
    expect(lines.every((l) => l.length <= 60)).toBe(true);
    expect(lines.slice(2).every((l) => l.startsWith(' '.repeat(11)))).toBe(true);
    expect(lines.some((l) => l.includes('[default: a b c d]'))).toBe(true);
  });

  it('wrap breaks at spaces and gives an overlong word its own line', () => {
    expect(wrap('aa bb cc', 5)).toEqual(['aa bb', 'cc']);
    expect(wrap('a ' + 'x'.repeat(10) + ' b', 5)).toEqual(['a', 'xxxxxxxxxx', 'b']);
    expect(wrap('', 5)).toEqual(['']);
  });

  it('formatUsage puts the synopsis lines, the about text, the flags and the notes in that order', () => {
    const u = formatUsage({ synopsis: ['x [options] A', 'x [options] B'], about: 'About.', notes: 'Notes.' }, { json: table.json });
    expect(u).toBe('Usage: stasis x [options] A\n       stasis x [options] B\n\nAbout.\n\nOptions:\n      --json  print JSON\n\nNotes.');
  });

  it('flagOrEnv prefers the flag, then a non-empty environment variable', () => {
    expect(flagOrEnv(table, { pids: '3' }, { X_PIDS: '4' }, 'pids')).toEqual({ value: '3', source: '--pids' });
    expect(flagOrEnv(table, {}, { X_PIDS: '4' }, 'pids')).toEqual({ value: '4', source: 'X_PIDS' });
    expect(flagOrEnv(table, {}, { X_PIDS: '' }, 'pids')).toBeUndefined();
    expect(flagOrEnv(table, {}, { X_PIDS: '4' }, 'memory')).toBeUndefined();
  });
});
