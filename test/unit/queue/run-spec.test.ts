import { describe, expect, it } from 'vitest';
import { ID_PATTERN } from '../../../src/runtime/ids.js';
import { JOB_ANNOTATIONS } from '../../../src/pool/protocol.js';
import { parseJobPayload } from '../../../src/queue/job-schema.js';
import { runSpecFor, taskIdFor } from '../../../src/queue/run-spec.js';

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

describe('runSpecFor', () => {
  it('maps a payload to a RunSpec with limits, env and the job annotations', () => {
    const p = parseJobPayload({
      command: ['sh', '-c', 'echo'],
      env: { A: '1' },
      limits: { memory: '64m', cpus: 0.5, pids: 10, timeout: 3 },
      namespace: 'tenant',
      annotations: { team: 'x' },
    });
    const s = runSpecFor(p, owner, '/rootfs');
    expect(s).toMatchObject({
      taskId: '42-0',
      namespace: 'tenant',
      rootfs: '/rootfs',
      args: ['sh', '-c', 'echo'],
      env: ['A=1'],
      memoryBytes: 64 * 1024 * 1024,
      cpus: 0.5,
      pids: 10,
      network: 'none',
      timeoutSeconds: 3,
    });
    expect(s.annotations).toMatchObject({
      team: 'x',
      [JOB_ANNOTATIONS.jobId]: '42',
      [JOB_ANNOTATIONS.token]: 'tok',
      [JOB_ANNOTATIONS.nodeId]: 'n1',
      [JOB_ANNOTATIONS.timeout]: '3',
    });
  });

  it('defaults to the node rootfs, namespace default and no network', () => {
    const s = runSpecFor(parseJobPayload({ command: ['true'] }), owner, '/bb');
    expect(s).toMatchObject({ rootfs: '/bb', namespace: 'default', network: 'none' });
    expect(s.timeoutSeconds).toBeUndefined();
  });
});
