import { describe, expect, it } from 'vitest';
import { buildNotStartedResult, isJobResult } from '../../../src/queue/result.js';
import { buildEnvelope } from '../../../src/queue/envelope.js';
import { emptyLineage } from '../../../src/queue/lineage.js';
import type { TaskOutcome } from '../../../src/pool/protocol.js';

const meta = { jobId: '1', attempt: 0, nodeId: 'n', taskId: '1-0', namespace: 'default' };
const outcome = (o: Partial<TaskOutcome> = {}): TaskOutcome => ({
  taskId: '1-0',
  namespace: 'default',
  startedAt: '2026-01-01T00:00:00.000Z',
  exit: { pid: 9, status: 137, signal: 'SIGKILL', exitedAt: '2026-01-01T00:00:01.250Z', reason: 'oom' },
  cause: 'oom',
  cpuMs: 5,
  peakMemoryBytes: 10,
  stdout: '',
  stderr: 'Killed\n',
  stdoutTruncated: false,
  stderrTruncated: false,
  logPath: null,
  lockLost: false,
  ...o,
});
const ck = (seq: number, nodeId: string) => ({ seq, nodeId, at: 't', path: `/s/${seq}`, reason: 'periodic', namespace: 'default', storeJobId: 'q:1' });

describe('buildEnvelope', () => {
  it('computes wallMs from startedAt and exitedAt and takes the reason from the cause', () => {
    const r = buildEnvelope(meta, outcome());
    expect(r).toMatchObject({ status: 'exited', wallMs: 1250, reason: 'oom', exitStatus: 137, signal: 'SIGKILL', checkpoints: [], nodes: ['n'] });
    expect(isJobResult(r)).toBe(true);
  });

  it('lists the nodes of the lineage and every checkpoint once, the lineage first', () => {
    const l = { ...emptyLineage(), nodes: ['a', 'n'], checkpoints: [ck(1, 'a')] };
    const r = buildEnvelope(meta, outcome({ checkpoints: [ck(1, 'a'), ck(2, 'n')] }), l);
    expect(r.nodes).toEqual(['a', 'n']);
    expect(r.checkpoints.map((c) => c.seq)).toEqual([1, 2]);
  });

  it('describes a job that never started', () => {
    const r = buildNotStartedResult(meta, { name: 'StasisError', code: 'ERR_RUNTIME', message: 'x' });
    expect(r).toMatchObject({ status: 'not-started', reason: 'failed-to-start', exitStatus: null, exitedAt: null });
    expect(isJobResult({})).toBe(false);
  });
});
