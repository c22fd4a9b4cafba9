/**
 * Retention of finished BullMQ jobs (docs/operations.md): the runner's defaults as BullMQ's
 * `removeOnComplete` / `removeOnFail` worker options, by age and by count. BullMQ applies them each
 * time a job finishes, and a producer's own job options win over them (scripts' getKeepJobs). Pure.
 */
import type { KeepJobs } from 'bullmq';
import type { RunnerConfig } from '../config/runner.js';

/** The retention settings of a runner. */
export type KeepSettings = Pick<RunnerConfig, 'keepCompletedMs' | 'keepCompletedCount' | 'keepFailedMs' | 'keepFailedCount'>;

/** The worker options that keep finished jobs for at most this long (whole seconds, rounded up) and this many. */
export function keepJobsOptions(c: KeepSettings): { removeOnComplete: KeepJobs; removeOnFail: KeepJobs } {
  return {
    removeOnComplete: { age: Math.ceil(c.keepCompletedMs / 1000), count: c.keepCompletedCount },
    removeOnFail: { age: Math.ceil(c.keepFailedMs / 1000), count: c.keepFailedCount },
  };
}
