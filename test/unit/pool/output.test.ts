import { describe, expect, it } from 'vitest';
import { OutputCollector } from '../../../src/pool/worker/output.js';
import { maxUsage } from '../../../src/pool/worker/cgroup-usage.js';

const line = (stream: 'stdout' | 'stderr', data: string, partial = false) => ({ time: 't', stream, data, partial });

describe('OutputCollector', () => {
  it('joins lines per stream, restoring newlines except for partial lines', () => {
    const c = new OutputCollector(100);
    c.add(line('stdout', 'a'));
    c.add(line('stderr', 'e'));
    c.add(line('stdout', 'b', true));
    expect(c.stdout.text()).toBe('a\nb');
    expect(c.stderr.text()).toBe('e\n');
    expect(c.stdout.truncated).toBe(false);
  });

  it('caps each stream at the byte limit and flags the cut', () => {
    const c = new OutputCollector(5);
    c.add(line('stdout', '1234'));
    c.add(line('stdout', '5678'));
    expect(c.stdout.text()).toBe('1234\n');
    expect(c.stdout.truncated).toBe(true);
    expect(c.stderr.truncated).toBe(false);
  });

  it('never cuts a UTF-8 character in half', () => {
    const c = new OutputCollector(4);
    c.add(line('stdout', 'aéé'));
    expect(Buffer.byteLength(c.stdout.text())).toBeLessThanOrEqual(4);
    expect(c.stdout.text()).toBe('aé');
    expect(c.stdout.truncated).toBe(true);
  });
});

describe('maxUsage', () => {
  it('keeps the larger cpu and peak of two samples', () => {
    expect(maxUsage({ cpuMs: 5, peakMemoryBytes: 100, memoryBytes: 50 }, { cpuMs: 3, peakMemoryBytes: 200, memoryBytes: 0 })).toEqual({
      cpuMs: 5,
      peakMemoryBytes: 200,
      memoryBytes: 0,
    });
    expect(maxUsage(null, null)).toBeNull();
  });
});
