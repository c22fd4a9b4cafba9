import { describe, expect, it } from 'vitest';
import { mergeLimits, mergeOciResources, toOciResources } from '../../../src/runtime/resources.js';

describe('resources', () => {
  it('maps memory to limit and swap (no swap by default)', () => {
    expect(toOciResources({ memoryBytes: 64 << 20 })).toEqual({ memory: { limit: 64 << 20, swap: 64 << 20 } });
    expect(toOciResources({ memoryBytes: 64, memorySwapBytes: 128 })).toEqual({ memory: { limit: 64, swap: 128 } });
  });

  it('maps cpus to CFS quota/period and keeps shares', () => {
    expect(toOciResources({ cpus: 0.5, cpuShares: 512 })).toEqual({ cpu: { quota: 50_000, period: 100_000, shares: 512 } });
  });

  it('maps pids to pids.limit and nothing to nothing', () => {
    expect(toOciResources({ pids: 20 })).toEqual({ pids: { limit: 20 } });
    expect(toOciResources({})).toEqual({});
  });

  it('rejects bad values with ERR_INVALID_ARGUMENT naming the field', () => {
    const cases: [object, string][] = [
      [{ memoryBytes: -1 }, 'resources.memoryBytes'],
      [{ memoryBytes: 100, memorySwapBytes: 50 }, 'resources.memorySwapBytes'],
      [{ cpus: 0 }, 'resources.cpus'],
      [{ pids: 1.5 }, 'resources.pids'],
      [{ cpuShares: '1' }, 'resources.cpuShares'],
    ];
    for (const [r, field] of cases) expect(() => toOciResources(r)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', details: { field } }));
  });

  it('merges updates into limits and into an existing linux.resources', () => {
    expect(mergeLimits({ memoryBytes: 1, pids: 5 }, { pids: 9, cpus: 1 })).toEqual({ memoryBytes: 1, pids: 9, cpus: 1 });
    expect(mergeOciResources({ devices: [], memory: { limit: 1, swap: 1 } }, { memory: { limit: 2, swap: 2 }, pids: { limit: 3 } })).toEqual({
      devices: [],
      memory: { limit: 2, swap: 2 },
      pids: { limit: 3 },
    });
  });
});
