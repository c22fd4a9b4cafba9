import { describe, expect, it } from 'vitest';
import { parseCmdline, parseRssBytes, toDetails } from '../../../src/runtime/proc.js';
import { parseProcStat } from '../../../src/os/proc.js';

describe('/proc parsing', () => {
  it('parses stat with spaces and parentheses in comm', () => {
    const text = '1234 (my (odd) prog) S 1200 1234 1234 0 -1 4194560 100 0 0 0 150 50 0 0 20 0 1 0 999 1000 200\n';
    expect(parseProcStat(text)).toMatchObject({ comm: 'my (odd) prog', state: 'S', ppid: 1200, utime: 150, stime: 50 });
    expect(parseProcStat('garbage')).toBeUndefined();
  });

  it('reads VmRSS in bytes and 0 when absent', () => {
    expect(parseRssBytes('Name:\tsh\nVmRSS:\t    1024 kB\n')).toBe(1024 * 1024);
    expect(parseRssBytes('Name:\tkthread\n')).toBe(0);
  });

  it('splits cmdline on NUL', () => {
    expect(parseCmdline('sh\0-c\0echo hi\0')).toEqual(['sh', '-c', 'echo hi']);
    expect(parseCmdline('')).toEqual([]);
  });

  it('converts clock ticks to milliseconds and marks exec pids', () => {
    const d = toDetails({ comm: 'sh', state: 'S', ppid: 1, utime: 150, stime: 50, startTime: '1' }, ['sh'], 4096, 'e1');
    expect(d).toEqual({ ppid: 1, state: 'S', comm: 'sh', args: ['sh'], rssBytes: 4096, cpuMs: 2000, execId: 'e1' });
  });
});
