import { describe, expect, it } from 'vitest';
import { ID_PATTERN } from '../../../src/runtime/ids.js';
import { JOB_ANNOTATIONS } from '../../../src/pool/protocol.js';
import { parseJobPayload } from '../../../src/queue/job-schema.js';
import { limitsFromAnnotations, logCapFor, runSpecFor, taskIdFor } from '../../../src/queue/run-spec.js';
import type { PolicyDecision } from '../../../src/policy/apply.js';
import type { EffectiveLimits } from '../../../src/policy/schema.js';

const owner = { jobId: '42', queue: 'stasis', prefix: 'bull', nodeId: 'n1', attempt: 0, token: 'tok' };

describe('taskIdFor', () => {
  it('keeps simple job ids and appends the attempt', () => {
    expect(taskIdFor('42', 0)).toBe('42-0');
    expect(taskIdFor('my-job.1', 3)).toBe('my-job.1-3');
  });

  it('sanitizes other ids into valid, distinct task ids', () => {
    const a = taskIdFor('repeat:abc:123', 0);
    const b = taskIdFor('repeat_abc_123', 0);
    expect(a).toMatch(ID_PATTERN);
    expect(a).not.toBe(b);
    expect(taskIdFor('_x', 1)).toMatch(ID_PATTERN);
  });

  it('shortens long ids to at most 64 characters, keeping them distinct', () => {
    const long = 'x'.repeat(100);
    const id = taskIdFor(long, 12);
    expect(id.length).toBeLessThanOrEqual(64);
    expect(id).toMatch(ID_PATTERN);
    expect(id).not.toBe(taskIdFor(`${long}y`, 12));
  });
});

const decision = (over: Partial<EffectiveLimits> = {}): PolicyDecision => ({
  rootfs: '/rootfs',
  network: 'none',
  limits: { memoryBytes: 64 * 1024 * 1024, cpus: 0.5, pids: 10, timeoutSeconds: 3, diskBytes: 1 << 28, outputBytes: 1 << 20, killGraceMs: 2000, ...over },
});
const when = { maxLogBytes: 64 << 20 };

describe('runSpecFor', () => {
  it('maps a payload and the policy decision to a RunSpec, deadlines and the job annotations', () => {
    const p = parseJobPayload({ command: ['sh', '-c', 'echo'], env: { A: '1' }, namespace: 'tenant', annotations: { team: 'x' } });
    const r = runSpecFor(p, owner, decision(), when);
    expect(r.spec).toMatchObject({
      taskId: '42-0',
      namespace: 'tenant',
      rootfs: '/rootfs',
      args: ['sh', '-c', 'echo'],
      env: ['A=1'],
      memoryBytes: 64 * 1024 * 1024,
      cpus: 0.5,
      pids: 10,
      diskBytes: 1 << 28,
      network: 'none',
    });
    expect(r.deadlines).toEqual({ timeoutSeconds: 3 });
    expect(r.killGraceMs).toBe(2000);
    expect(r.spec.annotations).toMatchObject({
      team: 'x',
      [JOB_ANNOTATIONS.jobId]: '42',
      [JOB_ANNOTATIONS.token]: 'tok',
      [JOB_ANNOTATIONS.nodeId]: 'n1',
      [JOB_ANNOTATIONS.timeout]: '3',
    });
    expect(r.spec.annotations[JOB_ANNOTATIONS.firstStartedAt]).toBeUndefined();
  });

  it('counts a later hop\'s deadline from the job\'s first start', () => {
    const r = runSpecFor(parseJobPayload({ command: ['true'] }), owner, decision(), { ...when, firstStartedAt: '2026-12-01T10:00:00.000Z' });
    expect(r.deadlines).toEqual({ timeoutSeconds: 3, firstStartedAt: '2026-12-01T10:00:00.000Z' });
    expect(r.spec.annotations[JOB_ANNOTATIONS.firstStartedAt]).toBe('2026-12-01T10:00:00.000Z');
  });

  it('carries a CPU-time limit as a deadline and an annotation', () => {
    const r = runSpecFor(parseJobPayload({ command: ['true'] }), owner, decision({ cpuTimeSeconds: 5 }), when);
    expect(r.deadlines.cpuTimeSeconds).toBe(5);
    expect(r.spec.annotations[JOB_ANNOTATIONS.cpuTime]).toBe('5');
  });

  it('reads the deadlines back from the annotations (a restarted node re-attaching)', () => {
    const r = runSpecFor(parseJobPayload({ command: ['true'] }), owner, decision({ cpuTimeSeconds: 5 }), { ...when, firstStartedAt: '2026-12-01T10:00:00.000Z' });
    expect(limitsFromAnnotations(r.spec.annotations)).toEqual({ deadlines: r.deadlines, killGraceMs: 2000, outputBytes: 1 << 20 });
  });
});

describe('logCapFor', () => {
  it('gives room for the per-line overhead, as a power of two, within the node maximum', () => {
    expect(logCapFor(1 << 20, 64 << 20)).toBe(16 << 20);
    expect(logCapFor(1024, 64 << 20)).toBe(4 << 20);
    expect(logCapFor(64 << 20, 64 << 20)).toBe(64 << 20);
  });
});
