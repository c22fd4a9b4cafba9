import { describe, expect, it } from 'vitest';
import { formatComparison } from '../../../bench/report.js';
import { counterArgs, memoryHolderArgs, memoryHolderLimits, median, parseStamp, toMiB } from '../../../bench/ckpt-workload.js';
import { parseLogTime } from '../../../bench/raw-migration.js';
import { stampedLines } from '../../../bench/queue-migration.js';

describe('checkpoint bench helpers', () => {
  it('median() takes the middle value, or the mean of the two middle ones, and ignores NaN', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([NaN, 5])).toBe(5);
    expect(median([])).toBeNaN();
  });

  it('the memory holder keeps exactly N MiB in tail and gets room for it in its memory limit', () => {
    const args = memoryHolderArgs(16);
    expect(args.slice(0, 2)).toEqual(['sh', '-c']);
    expect(args[2]).toContain(`head -c ${16 * 1024 * 1024} /dev/zero`);
    expect(args[2]).toContain(`tail -c ${16 * 1024 * 1024}`);
    expect(toMiB(memoryHolderLimits(1024).memoryBytes!)).toBeGreaterThan(1024);
  });

  it('counterArgs() gives the plain counter, the wall-clock-stamped one, or the counter next to a memory holder', () => {
    expect(counterArgs()[2]).not.toContain('adjtimex');
    expect(counterArgs({ stamped: true })[2]).toContain('adjtimex');
    expect(counterArgs({ mib: 256 })[2]).toContain(`tail -c ${256 * 1024 * 1024} &`);
    expect(counterArgs({ mib: 256, stamped: true })[2]).toMatch(/tail -c \d+ & i=0; .*adjtimex/);
  });

  it("parseLogTime() keeps conmon's sub-millisecond digits", () => {
    expect(parseLogTime('2026-11-28T10:44:00.123456789Z')).toBeCloseTo(Date.parse('2026-11-28T10:44:00.123Z') + 0.456789, 6);
    expect(parseLogTime('2026-11-28T10:44:00.5+01:00')).toBe(Date.parse('2026-11-28T09:44:00.500Z'));
    expect(parseLogTime('not a time')).toBeNaN();
  });

  it('stampedLines() reads every counter line of job.log (several to an entry), skips [stasis] lines and sorts by count', () => {
    const rows = [
      '2 time.tv_sec: 1795864946 time.tv_usec: 171176\n3 time.tv_sec: 1795864946 time.tv_usec: 176000',
      '[stasis] checkpointed on node A (#1, migrate); back to the queue for node B',
      '1 time.tv_sec: 1795864946 time.tv_usec: 5',
    ];
    expect(stampedLines(rows)).toEqual([
      { n: 1, at: 1795864946000.005 },
      { n: 2, at: 1795864946171.176 },
      { n: 3, at: 1795864946176 },
    ]);
  });

  it('parseStamp() reads time.tv_usec as ns when adjtimex says STA_NANO, as µs otherwise', () => {
    const at = (line: string) => parseStamp(line)!.at - 1796266796000;
    expect(parseStamp('7 status: 8256 (UNSYNC) time.tv_sec: 1796266796 time.tv_usec: 866811569')?.n).toBe(7);
    expect(at('7 status: 8256 (UNSYNC) time.tv_sec: 1796266796 time.tv_usec: 866811569')).toBeCloseTo(866.811569, 3);
    expect(at('8 status: 64 (UNSYNC) time.tv_sec: 1796266796 time.tv_usec: 866811')).toBeCloseTo(866.811, 3);
    expect(at('9 time.tv_sec: 1796266796 time.tv_usec: 5')).toBeCloseTo(0.005, 3);
    expect(parseStamp('[stasis] checkpointed')).toBeUndefined();
  });

  it('the table prints image sizes in MiB', () => {
    const r = (kind: 'baseline' | 'stasis', v: number) => ({
      scenario: kind,
      group: 'checkpoint 16 MiB',
      kind,
      measurements: [{ metric: 'image', label: 'image size', unit: 'MiB' as const, value: v, better: 'lower' as const }],
      samples: {},
      notes: [],
    });
    expect(formatComparison([r('baseline', 16.2), r('stasis', 16.3)])).toMatch(/image size\s+16\.2 MiB\s+16\.3 MiB\s+1\.01x/);
  });
});
