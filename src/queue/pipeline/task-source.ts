/** Where an attempt's task comes from: a new run (or restore), or a task already there to attach to. */
import type { Deadlines, RunSpec } from '../../pool/protocol.js';

/** A job attempt's own lifecycle limits (its effective limits, or its task's annotations after a restart). */
export interface JobLimits {
  killGraceMs: number;
  outputBytes: number;
  deadlines?: Deadlines;
}

/** How the attempt gets its task. */
export type JobTaskSource =
  | { kind: 'run'; spec: RunSpec; limits: JobLimits }
  | { kind: 'attach'; taskId: string; namespace: string; startedAt?: string; limits: JobLimits };
