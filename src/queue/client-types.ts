/** The option and answer types of StasisClient (client.ts). */
import type { JobsOptions, JobState } from 'bullmq';
import type { RedisOptions } from 'ioredis';
import type { JobResult } from './result.js';

/** Options of a StasisClient. */
export interface StasisClientOptions {
  /** ioredis options (maxRetriesPerRequest: null is added). */
  connection: RedisOptions;
  queue?: string;
  /** BullMQ key prefix (default 'bull'). */
  prefix?: string;
  /** Connection errors (Redis down, …); the client keeps retrying. Default: ignored. */
  onError?: (e: Error) => void;
}

/** Options of StasisClient.connect: resolve the connection the way the CLI does. */
export interface ConnectOptions {
  /** A Redis URL; beats REDIS_URL. Without either, the embedded Redis under `stateDir` is used. */
  redis?: string;
  env?: NodeJS.ProcessEnv;
  stateDir?: string;
  queue?: string;
  prefix?: string;
  onError?: (e: Error) => void;
}

/** BullMQ options of one submitted job. */
export interface SubmitOptions {
  /** Job name (free text; default 'run'). */
  name?: string;
  /** Your own job id (BullMQ ignores a duplicate add while the first exists). */
  jobId?: string;
  /** 1 is the highest priority. */
  priority?: number;
  /** Attempts for runtime failures (failed-to-start); a non-zero exit is not a failure. */
  attempts?: number;
  backoff?: JobsOptions['backoff'];
  /** Delay before the job becomes runnable, ms. */
  delay?: number;
  removeOnComplete?: JobsOptions['removeOnComplete'];
  removeOnFail?: JobsOptions['removeOnFail'];
}

/** What status() reports about a job. Times are ISO 8601 or null. */
export interface JobStatusInfo {
  id: string;
  name: string;
  state: JobState | 'unknown';
  /** The runner's progress object ({ status, pid, … }) or null. */
  progress: unknown;
  attemptsMade: number;
  failedReason: string | null;
  createdAt: string | null;
  processedAt: string | null;
  finishedAt: string | null;
  /** The result envelope once completed. */
  result: JobResult | null;
  cancelRequested: boolean;
}

/** What cancel() did. */
export interface CancelOutcome {
  jobId: string;
  /** The job's state when the request was made. */
  state: JobState | 'unknown';
  /** False when the job had already finished (nothing to cancel). */
  requested: boolean;
  /** Runner connections that received the request right away (0: it waits in the key for pickup). */
  delivered: number;
}

/** Options of logs(). */
export interface LogsOptions {
  /** Keep reading until the job finishes. */
  follow?: boolean;
  /** Poll interval while following (default 200 ms). */
  pollMs?: number;
  signal?: AbortSignal;
}
