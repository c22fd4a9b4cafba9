/** The one place a result envelope is made from what the task's lifecycle observed and the job's lineage. */
import type { TaskCheckpoint, TaskOutcome } from '../pool/protocol.js';
import type { Lineage } from './lineage.js';
import type { JobCheckpointRef, JobResult, JobResultMeta } from './result.js';

/** Every checkpoint of the job: the lineage's and this run's, once each, as the envelope lists them. */
function checkpointRefs(l: Lineage | undefined, taken: TaskCheckpoint[] | undefined): JobCheckpointRef[] {
  const all = [...(l?.checkpoints ?? [])];
  for (const c of taken ?? []) if (!all.some((x) => x.seq === c.seq && x.storeJobId === c.storeJobId)) all.push(c);
  return all.map((c) => ({ seq: c.seq, nodeId: c.nodeId, at: c.at, path: c.path, reason: c.reason }));
}

/** The envelope of a job whose process ran and stopped. */
export function buildEnvelope(meta: JobResultMeta, o: TaskOutcome, lineage?: Lineage): JobResult {
  const wallMs = Math.max(0, Date.parse(o.exit.exitedAt) - Date.parse(o.startedAt));
  return {
    ...meta,
    status: 'exited',
    exitStatus: o.exit.status,
    signal: o.exit.signal,
    reason: o.cause,
    startedAt: o.startedAt,
    exitedAt: o.exit.exitedAt,
    wallMs: Number.isFinite(wallMs) ? wallMs : 0,
    cpuMs: o.cpuMs,
    peakMemoryBytes: o.peakMemoryBytes,
    stdout: o.stdout,
    stderr: o.stderr,
    stdoutTruncated: o.stdoutTruncated,
    stderrTruncated: o.stderrTruncated,
    logPath: o.logPath,
    checkpoints: checkpointRefs(lineage, o.checkpoints),
    nodes: lineage && lineage.nodes.length > 0 ? lineage.nodes : [meta.nodeId],
  };
}
