import { describe, expect, it } from 'vitest';
import { normalizeStats } from '../../../src/runtime/stats.js';

describe('normalizeStats', () => {
  it('reads cgroup v1 fields from runc events --stats data', () => {
    const raw = {
      cpu: { usage: { total: 1000, user: 600, kernel: 400 }, throttling: { periods: 10, throttledPeriods: 3, throttledTime: 77 } },
      memory: { cache: 4096, usage: { usage: 2_000_000, max: 3_000_000, limit: 67108864, failcnt: 2 }, raw: { total_rss: 1_500_000 } },
      pids: { current: 2, limit: 50 },
    };
    const s = normalizeStats('t1', raw, 'now');
    expect(s).toEqual({
      id: 't1',
      readAt: 'now',
      cpu: { usageNs: 1000, userNs: 600, kernelNs: 400, throttledPeriods: 3, throttledTimeNs: 77 },
      memory: { usageBytes: 2_000_000, maxUsageBytes: 3_000_000, limitBytes: 67108864, failcnt: 2, rssBytes: 1_500_000, cacheBytes: 4096 },
      pids: { current: 2, limit: 50 },
      raw,
    });
  });

  it('reports an unlimited memory limit as 0 and survives missing fields', () => {
    const s = normalizeStats('t', { memory: { usage: { limit: 9223372036854771712 } } });
    expect(s.memory.limitBytes).toBe(0);
    expect(s.cpu.usageNs).toBe(0);
    expect(normalizeStats('t', null).pids).toEqual({ current: 0, limit: 0 });
  });
});
