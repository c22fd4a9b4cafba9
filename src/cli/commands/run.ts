/**
 * `stasis run [flags] -- cmd…`: submits one job, streams its output while it runs, prints a summary to
 * stderr and exits with the job's exit status (like `docker run`). With no Redis configured it uses
 * the embedded Redis and, when no runner is connected to the queue, runs one in-process for the job.
 */
import os from 'node:os';
import type { Command, CliIO } from '../command.js';
import { JOB_FLAGS_USAGE, parseJobRequest } from '../job-flags.js';
import { EXIT_NO_STATUS, formatRunSummary, runExitCode } from '../job-output.js';
import { waitDrain } from '../output.js';
import { formatError } from '../output.js';
import { hasCode, toErrorData } from '../../errors.js';
import { StasisClient, queueNameFrom } from '../../queue/client.js';
import type { JobResult } from '../../queue/result.js';
import { resolveConnection } from '../../queue/connection.js';
import { startRunner, type Runner } from '../../node/runner.js';
import { loadPolicy } from '../../policy/load.js';

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

/** `stasis run`. */
export const runCommand: Command = {
  name: 'run',
  summary: 'run one job, stream its output and exit with its status',
  usage: `Usage: stasis run [options] -- COMMAND [ARG...]

Submits one job, prints its output as it runs (byte for byte), a summary on stderr, and exits with
the job's exit status: its own status when it exited (127/126 when its program or working directory
was missing or not executable), 124 on a timeout, 152 on its CPU-time limit, 137 when OOM-killed,
130 when cancelled, 125 when it could not run (docs/cli.md). Without --redis and REDIS_URL it uses the embedded Redis under
the state directory and, when no runner serves the queue, runs one in this process.
Ctrl-C cancels the job.

${JOB_FLAGS_USAGE}
      --json              print the result envelope as JSON instead of streaming output`,
  async run(args, io) {
    const req = parseJobRequest(args, io.env);
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
          // The user is the operator here: what they pass on this command line is allowed.
          policy: loadPolicy({
            ...(req.payload.rootfs ? { allowRootfs: [req.payload.rootfs] } : {}),
            ...(req.payload.network === 'host' ? { allowHostNetwork: true } : {}),
          }, io.env),
          runtime: { stateDir: req.stateDir },
          // Its own node id: a `stasis serve` started later on this state dir must not adopt (and so
          // run twice) the task of this in-process runner, which recovery would do for a shared id.
          runner: { queue, concurrency: 1, threads: 1, nodeId: inProcessNodeId() },
          env: io.env,
        });
      }
      jobId = await client.submit(req.payload, req.submit);
      const logs = req.json ? Promise.resolve() : streamOutput(client, jobId, io);
      let result;
      try {
        result = await client.wait(jobId);
      } catch (e) {
        await logs.catch(() => undefined);
        // A failed job (failed-to-start after its attempts, --fail-on-non-zero, …) exits 125.
        if (!hasCode(e) || typeof (e as { details?: { failedReason?: unknown } }).details?.failedReason !== 'string') throw e;
        const { result: ran, ...details } = (toErrorData(e).details ?? {}) as { result?: JobResult };
        // --fail-on-non-zero: the job ran; its envelope is kept on the failed job. Show it too.
        if (ran && req.json) io.stdout.write(`${JSON.stringify(ran)}\n`);
        if (ran) io.stderr.write(formatRunSummary(ran));
        io.stderr.write(formatError(toErrorData(e).message, details));
        return EXIT_NO_STATUS;
      }
      await logs;
      if (req.json) io.stdout.write(`${JSON.stringify(result)}\n`);
      io.stderr.write(formatRunSummary(result));
      return runExitCode(result);
    } finally {
      process.off('SIGINT', onSigint);
      await runner?.close().catch(() => undefined);
      await client.close();
      await conn.release();
    }
  },
};
