import { describe, expect, it } from 'vitest';
import { parseOptions, isUsageError } from '../../../src/cli/args.js';
import { SERVE_OPTIONS, opsSettings, runnerSettings } from '../../../src/cli/serve-options.js';
import { formatUsage } from '../../../src/cli/options.js';

const flags = (...args: string[]) => parseOptions(args, SERVE_OPTIONS).values;

function thrown(f: () => unknown): Error & { details?: { field?: string } } {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('stasis serve operations flags', () => {
  it('without flags: no HTTP server, no dashboard, info level, pretty on a terminal and JSON otherwise', () => {
    expect(opsSettings(flags(), {}, true)).toEqual({ ui: false, logFormat: 'pretty', logLevel: 'info' });
    expect(opsSettings(flags(), {}, false)).toEqual({ ui: false, logFormat: 'json', logLevel: 'info' });
  });

  it('--http takes HOST:PORT, [IPv6]:PORT, :PORT (every interface) and a bare PORT (loopback)', () => {
    expect(opsSettings(flags('--http', '127.0.0.1:9464'), {}, false).http).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(opsSettings(flags('--http', '[::1]:9464'), {}, false).http).toEqual({ host: '::1', port: 9464 });
    expect(opsSettings(flags('--http', ':9464'), {}, false).http).toEqual({ host: '0.0.0.0', port: 9464 });
    expect(opsSettings(flags('--http', '9464'), {}, false).http).toEqual({ host: '127.0.0.1', port: 9464 });
    expect(opsSettings(flags(), { STASIS_HTTP: '127.0.0.1:0' }, false).http).toEqual({ host: '127.0.0.1', port: 0 });
  });

  it('a bad --http is a usage error naming the flag; a bad STASIS_HTTP names the variable', () => {
    for (const bad of ['localhost', '127.0.0.1:99999', 'http://x:1', '1.2.3.4:']) {
      const e = thrown(() => opsSettings(flags('--http', bad), {}, false));
      expect(isUsageError(e), bad).toBe(true);
      expect(e.message).toContain('`--http`');
    }
    const e = thrown(() => opsSettings(flags(), { STASIS_HTTP: 'nope' }, false));
    expect(isUsageError(e)).toBe(false);
    expect(e.message).toContain('`STASIS_HTTP`');
  });

  it('--ui needs --http, and says so naming both', () => {
    const e = thrown(() => opsSettings(flags('--ui'), {}, false));
    expect(isUsageError(e)).toBe(true);
    expect(e.message).toMatch(/`--ui` needs `--http ADDR`/);
    expect(opsSettings(flags('--ui', '--http', '127.0.0.1:0'), {}, false).ui).toBe(true);
    expect(opsSettings(flags('--http', '127.0.0.1:0'), { STASIS_UI: '1' }, false).ui).toBe(true);
    expect(opsSettings(flags('--http', '127.0.0.1:0'), { STASIS_UI: '0' }, false).ui).toBe(false);
    expect(thrown(() => opsSettings(flags('--http', '127.0.0.1:0'), { STASIS_UI: 'maybe' }, false)).message).toContain('STASIS_UI');
  });

  it('--log-format and --log-level take their words (any case) and refuse others naming the flag', () => {
    expect(opsSettings(flags('--log-format', 'PRETTY', '--log-level', 'debug'), {}, false)).toMatchObject({ logFormat: 'pretty', logLevel: 'debug' });
    expect(opsSettings(flags(), { STASIS_LOG_FORMAT: 'json', STASIS_LOG_LEVEL: 'warn' }, true)).toMatchObject({ logFormat: 'json', logLevel: 'warn' });
    expect(thrown(() => opsSettings(flags('--log-format', 'xml'), {}, false)).message).toContain('`--log-format`');
    expect(thrown(() => opsSettings(flags('--log-level', 'loud'), {}, false)).message).toContain('`--log-level`');
  });

  it('the retention flags take durations (at least 1s) and counts (0 or more), from flags or variables', () => {
    expect(runnerSettings(flags('--keep-completed', '2h', '--keep-completed-count', '0', '--keep-failed', '30d', '--keep-failed-count', '10'), {})).toEqual({
      keepCompletedMs: 2 * 3600_000,
      keepCompletedCount: 0,
      keepFailedMs: 30 * 24 * 3600_000,
      keepFailedCount: 10,
    });
    expect(runnerSettings(flags(), { STASIS_KEEP_COMPLETED: '90s', STASIS_KEEP_FAILED_COUNT: '7' })).toEqual({ keepCompletedMs: 90_000, keepFailedCount: 7 });
    expect(thrown(() => runnerSettings(flags('--keep-completed', '500ms'), {})).message).toContain('at least 1s');
    expect(thrown(() => runnerSettings(flags('--keep-failed-count=-1'), {})).message).toContain('`--keep-failed-count`');
  });

  it('every new flag is in serve --help with its variable', () => {
    const usage = formatUsage({ synopsis: 'serve' }, SERVE_OPTIONS);
    for (const [flag, env] of [
      ['--http ADDR', 'STASIS_HTTP'],
      ['--ui', 'STASIS_UI'],
      ['--log-format FORMAT', 'STASIS_LOG_FORMAT'],
      ['--log-level LEVEL', 'STASIS_LOG_LEVEL'],
      ['--keep-completed DURATION', 'STASIS_KEEP_COMPLETED'],
      ['--keep-completed-count N', 'STASIS_KEEP_COMPLETED_COUNT'],
      ['--keep-failed DURATION', 'STASIS_KEEP_FAILED'],
      ['--keep-failed-count N', 'STASIS_KEEP_FAILED_COUNT'],
    ]) {
      expect(usage).toContain(flag);
      expect(usage).toContain(`[env: ${env}]`);
    }
  });
});
