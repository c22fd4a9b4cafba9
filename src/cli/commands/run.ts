/**
 * `stasis run [flags] -- cmd…`: submits one job, streams its output while it runs, prints a summary to
 * stderr and exits with the job's exit status (like `docker run`). With no Redis configured it uses
 * the embedded Redis and, when no runner is connected to the queue, runs one in-process for the job.
 */
import os from 'node:os';
import type { Command, CliIO } from '../command.js';
import { RUN_OPTIONS, type JobRequest } from '../job-flags.js';
import { EXIT_NO_STATUS, formatRunSummary, runExitCode } from '../job-output.js';
import { withJobRequest } from '../job-request.js';
import { formatUsage } from '../options.js';
import { formatError, waitDrain } from '../output.js';
import { hasCode, toErrorData } from '../../errors.js';
import type { StasisClient } from '../../queue/client.js';
import type { JobResult } from '../../queue/result.js';
import type { ResolvedConnection } from '../../queue/connection.js';
import { outputStreamKey } from '../../queue/output-log.js';
import { startRunner, type Runner } from '../../node/runner.js';
import { loadPolicy } from '../../policy/load.js';
import type { NodePolicy } from '../../policy/schema.js';
import { DOCKER_HUB, parseImageRef } from '../../image/reference.js';

/** Node id of the in-process runner of `stasis run`: `<host>-run-<pid>`. */
export function inProcessNodeId(): string {
  const host = os.hostname().replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'node';
  return `${host.slice(0, 40)}-run-${process.pid}`;
}

/** Prints the job's output exactly as it arrives (stdout and stderr chunks, byte for byte), until it has finished. */
async function streamOutput(client: StasisClient, jobId: string, io: CliIO): Promise<void> {
  for await (const c of client.output(jobId, { follow: true })) {
    const out = c.stream === 'stderr' ? io.stderr : io.stdout;
    if (!out.write(c.data)) await waitDrain(out);
  }
}

/**
 * The policy of the in-process runner: the user is the operator here, so what they pass on this
 * command line is allowed (their --rootfs, --net host, their --image's registry or layout).
 */
export function operatorPolicy(req: JobRequest, env: NodeJS.ProcessEnv): NodePolicy {
  const policy = loadPolicy({
    ...(req.payload.rootfs ? { allowRootfs: [req.payload.rootfs] } : {}),
    ...(req.payload.network === 'host' ? { allowHostNetwork: true } : {}),
  }, env);
  if (!req.payload.image) return policy;
  const ref = parseImageRef(req.payload.image);
  const images = policy.images;
  return {
    ...policy,
    images: ref.transport === 'docker'
      ? { ...images, allowedRegistries: [...images.allowedRegistries, ref.registry ?? DOCKER_HUB] }
      : { ...images, allowedLayouts: [...images.allowedLayouts, ref.repository] },
  };
}

/**
 * `--rm`: removes the finished job (data, logs, result) and its output stream from Redis. A failure
 * is a warning: the job has run and its result was printed, so the exit code stays the job's.
 */
async function removeJob(client: StasisClient, jobId: string, io: CliIO): Promise<void> {
  try {
    const job = await client.queue.getJob(jobId);
    await job?.remove();
    const redis = await client.queue.client;
    await redis.del(outputStreamKey({ queue: client.queueName }, jobId));
  } catch (e) {
    io.stderr.write(`stasis: warning: --rm: could not remove job ${jobId}: ${e instanceof Error ? e.message : String(e)}\n`);
  }
}

/**
 * Ctrl-C while `stasis run` runs: cancels the job once it is submitted; a second Ctrl-C, or one
 * before the job exists, exits 130 at once.
 */
function cancelOnInterrupt(client: StasisClient, io: CliIO): { submitted(jobId: string): void; off(): void } {
  let jobId: string | null = null;
  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts > 1 || jobId === null) process.exit(130);
    io.stderr.write(`\nstasis: cancelling job ${jobId} (Ctrl-C again to leave it and exit)\n`);
    void client.cancel(jobId, 'interrupted (stasis run)').catch(() => undefined);
  };
  process.on('SIGINT', onSigint);
  return {
    submitted: (id) => void (jobId = id),
    off: () => void process.off('SIGINT', onSigint),
  };
}

/**
 * The runner of this job when no runner serves its queue: one in this process on the embedded
 * Redis (null when a runner is there); on another Redis, a note that the job waits for one.
 */
async function inProcessRunner(client: StasisClient, conn: ResolvedConnection, req: JobRequest, io: CliIO): Promise<Runner | null> {
  const runners = await client.runnerCount();
  if (conn.source !== 'embedded' && runners === 0) {
    io.stderr.write(`stasis: no runner serves queue ${client.queueName} on ${conn.target} yet; the job waits until one does (stasis serve)\n`);
  }
  if (conn.source !== 'embedded' || runners !== 0) return null;
  return startRunner({
    connection: conn.options,
    policy: operatorPolicy(req, io.env),
    runtime: { stateDir: req.stateDir },
    // Its own node id: a `stasis serve` started later on this state dir must not adopt (and so
    // run twice) the task of this in-process runner, which recovery would do for a shared id.
    runner: { queue: client.queueName, concurrency: 1, threads: 1, nodeId: inProcessNodeId() },
    env: io.env,
  });
}

/**
 * A job that failed (failed-to-start after its attempts, --fail-on-non-zero, …): prints its
 * envelope when it ran and the error, applies --rm and resolves to 125. Any other error is rethrown.
 */
async function reportFailedJob(e: unknown, client: StasisClient, jobId: string, req: JobRequest, io: CliIO): Promise<number> {
  if (!hasCode(e) || typeof (e as { details?: { failedReason?: unknown } }).details?.failedReason !== 'string') throw e;
  const { result: ran, ...details } = (toErrorData(e).details ?? {}) as { result?: JobResult };
  // --fail-on-non-zero: the job ran; its envelope is kept on the failed job. Show it too.
  if (ran && req.json) io.stdout.write(`${JSON.stringify(ran)}\n`);
  if (ran) io.stderr.write(formatRunSummary(ran));
  io.stderr.write(formatError(toErrorData(e).message, details));
  if (req.rm) await removeJob(client, jobId, io);
  return EXIT_NO_STATUS;
}

/** Streams a submitted job's output until it finishes, prints its summary, applies --rm; resolves to run's exit code. */
async function followJob(client: StasisClient, jobId: string, req: JobRequest, io: CliIO): Promise<number> {
  const logs = req.json ? Promise.resolve() : streamOutput(client, jobId, io);
  let result: JobResult;
  try {
    result = await client.wait(jobId);
  } catch (e) {
    await logs.catch(() => undefined);
    return reportFailedJob(e, client, jobId, req, io);
  }
  await logs;
  if (req.json) io.stdout.write(`${JSON.stringify(result)}\n`);
  io.stderr.write(formatRunSummary(result));
  if (req.rm) await removeJob(client, jobId, io);
  return runExitCode(result);
}

/** `stasis run`. */
export const runCommand: Command = {
  name: 'run',
  summary: 'run one job, stream its output and exit with its status',
  usage: formatUsage(
    {
      synopsis: ['run [options] -- COMMAND [ARG...]', 'run [options] --image REF [-- ARG...]'],
      about: `Submits one job, prints its output as it runs (byte for byte), a summary on stderr, and exits with
the job's exit status: its own status when it exited (127/126 when its program or working directory
was missing or not executable), 124 on a timeout, 152 on its CPU-time limit, 137 when OOM-killed,
130 when cancelled, 255 when lost, 125 when it could not run (docs/cli.md). Without --redis and
REDIS_URL it uses the embedded Redis under the state directory and, when no runner serves the queue,
runs one in this process. Ctrl-C cancels the job. With --image and no COMMAND the image's
Entrypoint and Cmd run.`,
    },
    RUN_OPTIONS,
  ),
  options: RUN_OPTIONS,
  async run(args, io) {
    return withJobRequest(args, io, 'run', async (req, { client, conn }) => {
      const interrupt = cancelOnInterrupt(client, io);
      let runner: Runner | null = null;
      try {
        runner = await inProcessRunner(client, conn, req, io);
        const jobId = await client.submit(req.payload, req.submit);
        interrupt.submitted(jobId);
        return await followJob(client, jobId, req, io);
      } finally {
        interrupt.off();
        await runner?.close().catch(() => undefined);
      }
    });
  },
};
