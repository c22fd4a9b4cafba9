/**
 * `stasis run [flags] -- cmd…`: submits one job, streams its output while it runs, prints a summary to
 * stderr and exits with the job's exit status (like `docker run`). With no Redis configured it uses
 * the embedded Redis and, when no runner is connected to the queue, runs one in-process for the job.
 */
import os from 'node:os';
import type { Command, CliIO } from '../command.js';
import { RUN_OPTIONS, parseJobRequest, type JobRequest } from '../job-flags.js';
import { EXIT_NO_STATUS, formatRunSummary, runExitCode } from '../job-output.js';
import { formatUsage } from '../options.js';
import { waitDrain } from '../output.js';
import { formatError } from '../output.js';
import { readCommandStdin } from '../stdin.js';
import { hasCode, toErrorData } from '../../errors.js';
import { StasisClient, queueNameFrom } from '../../queue/client.js';
import type { JobResult } from '../../queue/result.js';
import { resolveConnection } from '../../queue/connection.js';
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
    const req = parseJobRequest(args, io.env, 'run');
    if (req.interactive) req.payload.stdin = await readCommandStdin(io);
    const conn = await resolveConnection({ ...(req.redis !== undefined ? { redis: req.redis } : {}), env: io.env, stateDir: req.stateDir });
    const queue = queueNameFrom(req.queue, io.env);
    const client = new StasisClient({ connection: conn.options, queue });
    let runner: Runner | null = null;
    let jobId: string | null = null;
    let interrupts = 0;
    const onSigint = () => {
      interrupts++;
      if (interrupts > 1 || jobId === null) process.exit(130);
      io.stderr.write(`\nstasis: cancelling job ${jobId} (Ctrl-C again to leave it and exit)\n`);
      void client.cancel(jobId, 'interrupted (stasis run)').catch(() => undefined);
    };
    process.on('SIGINT', onSigint);
    try {
      const runners = await client.runnerCount();
      if (conn.source !== 'embedded' && runners === 0) {
        io.stderr.write(`stasis: no runner serves queue ${queue} on ${conn.target} yet; the job waits until one does (stasis serve)\n`);
      }
      if (conn.source === 'embedded' && runners === 0) {
        runner = await startRunner({
          connection: conn.options,
          policy: operatorPolicy(req, io.env),
          runtime: { stateDir: req.stateDir },
          // Its own node id: a `stasis serve` started later on this state dir must not adopt (and so
          // run twice) the task of this in-process runner, which recovery would do for a shared id.
          runner: { queue, concurrency: 1, threads: 1, nodeId: inProcessNodeId() },
          env: io.env,
        });
      }
      const id = await client.submit(req.payload, req.submit);
      jobId = id;
      const logs = req.json ? Promise.resolve() : streamOutput(client, id, io);
      let result;
      try {
        result = await client.wait(id);
      } catch (e) {
        await logs.catch(() => undefined);
        // A failed job (failed-to-start after its attempts, --fail-on-non-zero, …) exits 125.
        if (!hasCode(e) || typeof (e as { details?: { failedReason?: unknown } }).details?.failedReason !== 'string') throw e;
        const { result: ran, ...details } = (toErrorData(e).details ?? {}) as { result?: JobResult };
        // --fail-on-non-zero: the job ran; its envelope is kept on the failed job. Show it too.
        if (ran && req.json) io.stdout.write(`${JSON.stringify(ran)}\n`);
        if (ran) io.stderr.write(formatRunSummary(ran));
        io.stderr.write(formatError(toErrorData(e).message, details));
        if (req.rm) await removeJob(client, id, io);
        return EXIT_NO_STATUS;
      }
      await logs;
      if (req.json) io.stdout.write(`${JSON.stringify(result)}\n`);
      io.stderr.write(formatRunSummary(result));
      if (req.rm) await removeJob(client, id, io);
      return runExitCode(result);
    } finally {
      process.off('SIGINT', onSigint);
      await runner?.close().catch(() => undefined);
      await client.close();
      await conn.release();
    }
  },
};
