import { describe, expect, it } from 'vitest';
import { criuCause, criuLogPath, lastCriuError } from '../../../src/runc/criu-log.js';
import { lastErrorLine, oneLine, unquoteGo } from '../../../src/runc/runtime-log.js';

describe('lastErrorLine', () => {
  it('returns the unquoted msg of the last level=error line', () => {
    const stderr = [
      'time="2026-11-28T10:05:33Z" level=warning msg="something minor"',
      'time="2026-11-28T10:05:33Z" level=error msg="first"',
      'time="2026-11-28T10:05:33Z" level=error msg="container does not exist"',
      '',
    ].join('\n');
    expect(lastErrorLine(stderr)).toBe('container does not exist');
  });

  it('unescapes quotes and newlines inside msg', () => {
    const stderr = 'time="x" level=error msg="criu failed: type NOTIFY errno 0\\nlog file: /b/restore.log \\"q\\""\n';
    expect(lastErrorLine(stderr)).toBe('criu failed: type NOTIFY errno 0\nlog file: /b/restore.log "q"');
  });

  it('accepts level=fatal and unquoted msg tokens', () => {
    expect(lastErrorLine('level=fatal msg=boom')).toBe('boom');
  });

  it('falls back to the last non-empty line', () => {
    expect(lastErrorLine('one\ntwo\n\n  \n')).toBe('two');
  });

  it('is undefined for empty output', () => {
    expect(lastErrorLine('  \n\n')).toBeUndefined();
  });
});

describe('unquoteGo and oneLine', () => {
  it.each([
    ['"a\\tb"', 'a\tb'],
    ['"\\x41\\u00e9"', 'Aé'],
    ['"back\\\\slash"', 'back\\slash'],
    ['bare', 'bare'],
  ])('unquoteGo(%j) is %j', (input, want) => {
    expect(unquoteGo(input)).toBe(want);
  });

  it('joins lines with "; "', () => {
    expect(oneLine('a\n b \n\nc')).toBe('a; b; c');
  });
});

describe('criuLogPath', () => {
  it('finds the path after an escaped newline (as in conmon sync messages)', () => {
    const msg = 'level=error msg="criu failed: type NOTIFY errno 0\\nlog file: /tmp/demo/b/o1e/restore.log"\n';
    expect(criuLogPath(msg)).toBe('/tmp/demo/b/o1e/restore.log');
  });

  it('finds the path after a real newline and takes the last one', () => {
    expect(criuLogPath('log file: /a/dump.log\ncriu failed\nlog file: /w/dump.log')).toBe('/w/dump.log');
  });

  it('is undefined when no log is named', () => {
    expect(criuLogPath('container does not exist')).toBeUndefined();
  });
});

describe('lastCriuError', () => {
  it('returns the last CRIU error, skipping the harmless RLIMIT_NOFILE one', () => {
    const log = [
      '(00.000512) Error (criu/util.c:1533): rlimit: Can\'t setup RLIMIT_NOFILE for self: Operation not permitted',
      '(00.010000) Error (criu/mem.c:123): Tracking memory is not available',
      '(00.020000) Dumping finished',
      "(00.030000)      1: Error (criu/files-reg.c:2353): Can't open file data/log on restore: No such file or directory",
      '(00.040000) Error (criu/util.c:1533): rlimit: Can\'t setup RLIMIT_NOFILE for self: Operation not permitted',
    ].join('\n');
    expect(lastCriuError(log)).toBe("Can't open file data/log on restore: No such file or directory (criu/files-reg.c:2353)");
  });

  it('is undefined without errors', () => {
    expect(lastCriuError('(00.1) Dumping finished successfully\n')).toBeUndefined();
  });
});

describe('criuCause', () => {
  it('names the first real error and the last one, not the noise that follows a failure', () => {
    const log = [
      '(00.1) Error (criu/util.c:1533): rlimit: Can\'t setup RLIMIT_NOFILE for self: Operation not permitted',
      '(00.2)      1: Error (criu/files-reg.c:2175): File tmp/workload.log has bad size 470 (expect 462)',
      '(00.3)      1: Error (criu/files.c:1234): Can\'t open file tmp/workload.log',
      '(00.4) Error (criu/cr-restore.c:2320): Restoring FAILED.',
      '(00.5) Error (criu/cgroup.c:1998): cg: cgroupd: recv req error: No such file or directory',
    ].join('\n');
    expect(criuCause(log)).toBe("File tmp/workload.log has bad size 470 (expect 462) (criu/files-reg.c:2175) … Can't open file tmp/workload.log (criu/files.c:1234)");
    expect(lastCriuError(log)).toBe("Can't open file tmp/workload.log (criu/files.c:1234)");
  });
});
