/** `stasis serve`: runs one runner node until SIGINT/SIGTERM (a second signal leaves containers running). */
import type { CliIO, Command } from '../command.js';
import { parseOptions, resolveGlobals } from '../args.js';
import { formatUsage } from '../options.js';
import { SERVE_OPTIONS, policyFlags, runnerSettings, warmPoolSetting } from '../serve-options.js';
import { startRunner, type Runner } from '../../node/runner.js';
import { loadPolicy } from '../../policy/load.js';
import { SERVE_WARM_POOL } from '../../runtime/warm/pool.js';

/** The line serve prints once its node runs: the `ready` event as JSON, or one sentence. */
function readyLine(runner: Runner, json: boolean): string {
  const c = runner.config;
  const start = {
    event: 'ready',
    nodeId: c.nodeId,
    queue: c.queue,
    redis: runner.redisTarget,
    concurrency: c.concurrency,
    stateDir: runner.runtime.stateDir,
    recovery: runner.recovery,
  };
  return json
    ? `${JSON.stringify(start)}\n`
    : `stasis serve: node ${c.nodeId} consuming queue ${c.queue} on ${runner.redisTarget} (concurrency ${c.concurrency}, state ${runner.runtime.stateDir}); recovered: ${runner.recovery.adopted.length} adopted, ${runner.recovery.orphaned.length} kept, ${runner.recovery.discarded.length} discarded\n`;
}

/**
 * Resolves to serve's exit code once SIGINT/SIGTERM have closed (or, with a checkpoint store,
 * drained) the node; a second signal, or the drain timeout, leaves running jobs to the next start.
 */
function untilSignalled(runner: Runner, io: CliIO): Promise<number> {
  const c = runner.config;
  return new Promise<number>((resolve) => {
    let signals = 0;
    let drain: ReturnType<typeof runner.drain> | undefined;
    const leave = (why: string, code: number) => {
      const n = runner.consumer.activeJobs().length;
      io.stderr.write(`stasis serve: ${why}: leaving ${n} job(s) running under their monitors; the next start of node ${c.nodeId} re-attaches them\n`);
      void runner.close({ force: true }).finally(() => resolve(code));
    };
    const onSignal = () => {
      signals++;
      if (signals === 1) {
        // SIGTERM always ends serve within the drain timeout, Redis or not.
        setTimeout(() => leave(`the ${c.checkpointDir ? 'drain' : 'close'} did not finish within ${c.drainTimeoutMs} ms`, 1), c.drainTimeoutMs).unref();
        if (!runner.redisReachable) return leave('Redis is unreachable, so no job can be handed back', 0);
      }
      if (c.checkpointDir) {
        if (signals === 1) {
          io.stderr.write(`stasis serve: draining (checkpointing running jobs into ${c.checkpointDir}; signal again to kill them)\n`);
          drain = runner.drain();
          void drain.done.then(
            (r) => {
              io.stderr.write(`stasis serve: drained: ${JSON.stringify(r)}\n`);
              resolve(0);
            },
            () => resolve(1),
          );
        } else {
          drain?.kill();
        }
        return;
      }
      if (signals === 1) {
        io.stderr.write(`stasis serve: closing (waiting up to ${c.drainTimeoutMs} ms for running jobs; signal again to exit now)\n`);
        void runner.close().then(() => resolve(0), () => resolve(1));
      } else {
        void runner.close({ force: true }).finally(() => resolve(130));
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}

/** `stasis serve`. */
export const serveCommand: Command = {
  name: 'serve',
  summary: 'Run a runner node: take jobs from the queue and run them in containers',
  usage: formatUsage(
    {
      synopsis: 'serve [options]',
      about: `Runs one runner node until SIGINT/SIGTERM. Every setting is a flag, else its environment
variable, else the default shown.`,
      notes: `SIGINT/SIGTERM without a checkpoint store: stop taking jobs and wait for running ones. A second signal
exits at once; running containers keep running under their monitors and are re-attached by the next start.
With --checkpoint-dir, SIGINT/SIGTERM drains: running jobs are checkpointed and handed back to the queue
(per their checkpoint.onDrain policy), then the node exits; a second signal, or the drain timeout, kills
what is left and hands it back (docs/migration.md). Either way serve exits within the drain timeout: what
could not be handed back (Redis unreachable) keeps running and the next start re-attaches it.`,
    },
    SERVE_OPTIONS,
  ),
  options: SERVE_OPTIONS,
  async run(args, io) {
    const { values } = parseOptions(args, SERVE_OPTIONS);
    const settings = runnerSettings(values, io.env);
    const policy = loadPolicy(policyFlags(values), io.env);
    const g = resolveGlobals({ 'state-dir': values['state-dir'], json: values.json }, io.env);
    if (policy.userns === 'host') io.stderr.write('stasis serve: warning: user namespaces are off (--userns host): a container\'s root is the host\'s root\n');
    let fatal: ((e: unknown) => void) | undefined;
    const runner = await startRunner({
      env: io.env,
      policy,
      runtime: { stateDir: g.stateDir, warmPool: warmPoolSetting(values, io.env) ?? SERVE_WARM_POOL },
      runner: settings,
      onError: (e) => io.stderr.write(`stasis serve: ${e instanceof Error ? e.message : String(e)}\n`),
      onFatal: (e) => fatal?.(e),
    });
    io.stdout.write(readyLine(runner, g.json));
    return untilSignalled(runner, io);
  },
};
