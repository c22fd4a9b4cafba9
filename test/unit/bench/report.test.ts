import { describe, expect, it } from 'vitest';
import { formatComparison, formatGoal, goalOf, latencyMeasurements, percentile, ratios, type ScenarioResult } from '../../../bench/report.js';

const result = (kind: ScenarioResult['kind'], p50: number, tput: number): ScenarioResult => ({
  scenario: kind,
  group: 'true container',
  kind,
  measurements: [
    { metric: 'latency.p50', label: '`true` latency p50', unit: 'ms', value: p50, better: 'lower' },
    { metric: 'throughput', label: 'throughput, 2 in parallel', unit: '/s', value: tput, better: 'higher' },
  ],
  samples: {},
  notes: [],
});

describe('bench report', () => {
  it('percentile() uses the nearest rank', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10);
    expect(percentile([], 50)).toBeNaN();
  });
  it('latencyMeasurements() gives p50, p95 and mean', () => {
    expect(latencyMeasurements([10, 20, 30], 'x').map((m) => [m.metric, m.value])).toEqual([
      ['latency.p50', 20],
      ['latency.p95', 30],
      ['latency.mean', 20],
    ]);
  });
  it('compares stasis with the baseline of its group as a ratio', () => {
    const rs = [result('baseline', 20, 100), result('stasis', 50, 25)];
    expect(ratios(rs)).toEqual({ 'true container': { 'latency.p50': 2.5, throughput: 0.25 } });
    const table = formatComparison(rs);
    expect(table).toMatch(/latency p50\s+20\.0 ms\s+50\.0 ms\s+2\.50x/);
    expect(table).toMatch(/throughput, 2 in parallel\s+100\.0 \/s\s+25\.0 \/s\s+0\.25x/);
  });
  it("prints each row's goal and whether this run met it", () => {
    const table = formatComparison([result('baseline', 20, 100), result('stasis', 19, 85)]);
    expect(table).toMatch(/latency p50.*0\.95x\s+≤ 1\.00x met/);
    expect(table).toMatch(/throughput.*0\.85x\s+≥ 0\.80x met/);
    expect(formatGoal(goalOf('checkpoint 16 MiB', 'checkpoint.outside'), 14, 26)).toBe('≤ raw + 5 ms NOT met');
    expect(formatGoal(goalOf('migration via the queue (counter)', 'downtime.max'), 300, 420)).toBe('≤ 1.50x met');
    expect(formatGoal(goalOf('image pull', 'image.pull.p50'), 765, 725)).toBe('≤ 1.10x met');
    expect(formatGoal(goalOf('true container', 'latency.mean'), 1, 2)).toBe('-');
    // An absolute bound on stasis' own figure: the raw column does not enter it.
    expect(formatGoal(goalOf('memory per running task', 'memory.outside'), 0.3, 1.6)).toBe('≤ 2 MiB met');
    expect(formatGoal(goalOf('memory per running task', 'memory.outside'), undefined, 2.4)).toBe('≤ 2 MiB NOT met');
    expect(formatGoal(goalOf('memory per running task', 'memory.monitor'), 0, 0.4)).toBe('-');
  });
});
