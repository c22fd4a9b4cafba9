import { describe, expect, it } from 'vitest';
import { NodeMetrics } from '../../../src/metrics/node-metrics.js';
import { LabelCap, OTHER_NAMESPACE, SERIES } from '../../../src/metrics/names.js';
import type { NodeEvent } from '../../../src/events/node-events.js';

const ref = { jobId: '1', taskId: '1-0', namespace: 'team-a' };

function metrics(g: Partial<{ running: number; active: number; up: boolean; ready: boolean }> = {}) {
  return new NodeMetrics({
    nodeId: 'n1',
    queue: 'q',
    processMetrics: false,
    gauges: { tasksRunning: () => g.running ?? 0, jobsActive: () => g.active ?? 0, redisUp: () => g.up ?? true, ready: () => g.ready ?? true },
  });
}

/** The value of one series line (labels in any order), or undefined. */
function value(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('node metrics', () => {
  it('every series is named stasis_*, in base units, counters ending in _total', () => {
    for (const s of Object.values(SERIES)) {
      expect(s.name).toMatch(/^stasis_[a-z_]+$/);
      if ('buckets' in s) expect(s.name).toMatch(/_(seconds|bytes)$/);
      if (s.name.endsWith('_total')) expect('buckets' in s).toBe(false);
    }
  });

  it("a job's events move its counters and histograms, labelled by namespace and reason", async () => {
    const m = metrics();
    const events: NodeEvent[] = [
      { event: 'taken', ...ref, attempt: 0, adopted: false, queueWaitMs: 30 },
      { event: 'started', ...ref, attached: false, restored: false, startLatencyMs: 20, warm: 'hit' },
      { event: 'exited', ...ref, reason: 'timeout', exitStatus: 143, signal: null, runMs: 1500, cpuMs: 3, peakMemoryBytes: 1 },
      { event: 'posted', ...ref, state: 'completed', reason: 'timeout', totalMs: 1600 },
      { event: 'checkpointed', ...ref, reason: 'periodic', seq: 1, durationMs: 120, bytes: 4096 },
      { event: 'migrated', ...ref, reason: 'drain', seq: 2, to: null },
      { event: 'handed-back', ...ref, reason: 'refused' },
      { event: 'started', ...ref, attached: false, restored: true, startLatencyMs: 300, restoreMs: 250, downtimeMs: 900 },
    ];
    for (const e of events) m.observe(e);
    const t = await m.text();
    expect(value(t, 'stasis_jobs_taken_total', { namespace: 'team-a', adopted: 'false', node: 'n1', queue: 'q' })).toBe(1);
    expect(value(t, 'stasis_jobs_finished_total', { namespace: 'team-a', reason: 'timeout', state: 'completed' })).toBe(1);
    expect(value(t, 'stasis_job_queue_wait_seconds_sum', { namespace: 'team-a' })).toBeCloseTo(0.03);
    expect(value(t, 'stasis_job_start_latency_seconds_count', { restored: 'false' })).toBe(1);
    expect(value(t, 'stasis_job_start_latency_seconds_count', { restored: 'true' })).toBe(1);
    expect(value(t, 'stasis_job_run_seconds_sum', { reason: 'timeout' })).toBeCloseTo(1.5);
    expect(value(t, 'stasis_checkpoint_duration_seconds_count', { reason: 'periodic' })).toBe(1);
    expect(value(t, 'stasis_checkpoint_size_bytes_sum', { reason: 'periodic' })).toBe(4096);
    expect(value(t, 'stasis_restore_duration_seconds_sum')).toBeCloseTo(0.25);
    expect(value(t, 'stasis_migration_downtime_seconds_sum')).toBeCloseTo(0.9);
    expect(value(t, 'stasis_warm_pool_starts_total', { result: 'hit' })).toBe(1);
    expect(value(t, 'stasis_jobs_handed_back_total', { reason: 'drain' })).toBe(1);
    expect(value(t, 'stasis_jobs_handed_back_total', { reason: 'refused' })).toBe(1);
  });

  it('the gauges read the node when scraped', async () => {
    const g = { running: 2, active: 3, up: true, ready: true };
    const m = metrics(g);
    expect(value(await m.text(), 'stasis_tasks_running')).toBe(2);
    g.up = false;
    g.ready = false;
    g.running = 0;
    const t = await m.text();
    expect(value(t, 'stasis_redis_up')).toBe(0);
    expect(value(t, 'stasis_node_ready')).toBe(0);
    expect(value(t, 'stasis_tasks_running')).toBe(0);
    expect(value(t, 'stasis_jobs_active')).toBe(3);
  });

  it('two nodes in one process keep their own registries', async () => {
    const a = metrics();
    const b = metrics();
    a.observe({ event: 'posted', ...ref, state: 'failed', reason: 'error' });
    expect(value(await a.text(), 'stasis_jobs_finished_total', { reason: 'error' })).toBe(1);
    expect(value(await b.text(), 'stasis_jobs_finished_total', { reason: 'error' })).toBeUndefined();
  });
});

describe('namespace label cap', () => {
  it('keeps the first namespaces by name and counts the rest as _other', () => {
    const cap = new LabelCap(2);
    expect(['a', 'b', 'c', 'a', 'd', 'b'].map((n) => cap.of(n))).toEqual(['a', 'b', OTHER_NAMESPACE, 'a', OTHER_NAMESPACE, 'b']);
  });
});
