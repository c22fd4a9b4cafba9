/** `stasis serve`: runs one runner node until SIGINT/SIGTERM (a second signal leaves containers running). */
import type { Command } from '../command.js';
import { parseOptions, resolveGlobals } from '../args.js';
import { formatUsage } from '../options.js';
import { SERVE_OPTIONS, opsSettings, policyFlags, runnerSettings, warmPoolSetting } from '../serve-options.js';
import { prepareOps, type ServeOps } from '../serve-ops.js';
import { startRunner, type Runner } from '../../node/runner.js';
import { loadPolicy } from '../../policy/load.js';
import { SERVE_WARM_POOL } from '../../runtime/warm/serve-default.js';
import { loadRunnerConfig } from '../../config/runner.js';
import { loadRuntimeConfig } from '../../config/load.js';
import { createLogger } from '../../log/pino.js';
import type { Logger } from '../../log/logger.js';
import { logError } from '../../log/node-events.js';
import { formatListenAddress } from '../../http/address.js';

/** The line serve prints once its node runs: the `ready` event as JSON, or one sentence. */
function readyLine(runner: Runner, json: boolean, http: string | undefined): string {
  const c = runner.config;
  const start = {
    event: 'ready',
    nodeId: c.nodeId,
    queue: c.queue,
    redis: runner.redisTarget,
    concurrency: c.concurrency,
    stateDir: runner.runtime.stateDir,
    recovery: runner.recovery,
    ...(http ? { http } : {}),
  };
  return json
    ? `${JSON.stringify(start)}\n`
    : `stasis serve: node ${c.nodeId} consuming queue ${c.queue} on ${runner.redisTarget} (concurrency ${c.concurrency}, state ${runner.runtime.stateDir}${http ? `, http ${http}` : ''}); recovered: ${runner.recovery.adopted.length} adopted, ${runner.recovery.orphaned.length} kept, ${runner.recovery.discarded.length} discarded\n`;
}

/**
 * Resolves to serve's exit code once SIGINT/SIGTERM have closed (or, with a checkpoint store,
 * drained) the node, or the job consumer failed for good (`onFatal`); a second signal, or the drain
 * timeout, leaves running jobs to the next start.
 */
function untilSignalled(runner: Runner, log: Logger, ops: ServeOps, onFatal: (f: (e: unknown) => void) => void): Promise<number> {
  const c = runner.config;
  return new Promise<number>((resolve) => {
    let signals = 0;
    let drain: ReturnType<typeof runner.drain> | undefined;
    const exit = (code: number) => {
      void ops
        .close()
        .catch((e: unknown) => logError(log, e, { what: 'close: http server' }, 'warn'))
        .finally(() => {
          log.flush();
          resolve(code);
        });
    };
    const leave = (why: string, code: number) => {
      const n = runner.consumer.activeJobs().length;
      log.warn({ event: 'leaving', jobs: n }, `${why}: leaving ${n} job(s) running under their monitors; the next start of node ${c.nodeId} re-attaches them`);
      void runner.close({ force: true }).finally(() => exit(code));
    };
    const ended = (what: string) => [() => exit(0), (e: unknown) => (logError(log, e, { what }), exit(1))] as const;
    // The BullMQ worker loop failed for good: a node that takes no jobs must not look alive. Exit
    // (non-zero, so systemd or compose restart it), leaving running jobs to that restart.
    onFatal((e) => {
      logError(log, e, { what: 'the job consumer stopped' });
      leave('the job consumer stopped', 1);
    });
    const onSignal = () => {
      signals++;
      if (signals === 1) {
        // SIGTERM always ends serve within the drain timeout, Redis or not.
        setTimeout(() => leave(`the ${c.checkpointDir ? 'drain' : 'close'} did not finish within ${c.drainTimeoutMs} ms`, 1), c.drainTimeoutMs).unref();
        if (!runner.redisReachable) return leave('Redis is unreachable, so no job can be handed back', 0);
      }
      if (c.checkpointDir) {
        if (signals > 1) return drain?.kill();
        log.info({ event: 'draining', checkpointDir: c.checkpointDir }, `draining (checkpointing running jobs into ${c.checkpointDir}; signal again to kill them)`);
        drain = runner.drain();
        // The drain's report is the node's `drained` line.
        void drain.done.then(...ended('drain'));
      } else if (signals === 1) {
        log.info({ event: 'closing', drainTimeoutMs: c.drainTimeoutMs }, `closing (waiting up to ${c.drainTimeoutMs} ms for running jobs; signal again to exit now)`);
        void runner.close().then(...ended('close'));
      } else {
        void runner.close({ force: true }).finally(() => exit(130));
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
variable, else the default shown. The start line goes to stdout (--json: one JSON object, always the
first line); the node's log goes to stderr, one line per job event (docs/operations.md).`,
      notes: `SIGINT/SIGTERM without a checkpoint store: stop taking jobs and wait for running ones. A second signal
exits at once; running containers keep running under their monitors and are re-attached by the next start.
With --checkpoint-dir, SIGINT/SIGTERM drains: running jobs are checkpointed and handed back to the queue
(per their checkpoint.onDrain policy), then the node exits; a second signal, or the drain timeout, kills
what is left and hands it back (docs/migration.md). Either way serve exits within the drain timeout: what
could not be handed back (Redis unreachable) keeps running and the next start re-attaches it.
/readyz answers 503 from the first signal on.`,
    },
    SERVE_OPTIONS,
  ),
  options: SERVE_OPTIONS,
  async run(args, io) {
    const { values } = parseOptions(args, SERVE_OPTIONS);
    const settings = runnerSettings(values, io.env);
    const ops = opsSettings(values, io.env, (io.stderr as { isTTY?: boolean }).isTTY === true);
    const policy = loadPolicy(policyFlags(values), io.env);
    const g = resolveGlobals({ 'state-dir': values['state-dir'], json: values.json }, io.env);
    const config = loadRunnerConfig(settings, io.env);
    // The runner binds its node id to the lines it writes; serve's own lines get it here.
    const base = createLogger({ format: ops.logFormat, level: ops.logLevel, stream: io.stderr });
    const log = base.child({ nodeId: config.nodeId });
    if (policy.userns === 'host') log.warn({ event: 'config' }, "user namespaces are off (--userns host): a container's root is the host's root");
    const userns = typeof policy.userns === 'string' ? policy.userns : 'mapped';
    const prepared = await prepareOps(ops, { config, runtime: loadRuntimeConfig({}, io.env), env: io.env, log, userns });
    let fatal: ((e: unknown) => void) | undefined;
    const runner = await startRunner({
      env: io.env,
      policy,
      runtime: { stateDir: g.stateDir, warmPool: warmPoolSetting(values, io.env) ?? SERVE_WARM_POOL },
      runner: settings,
      logger: base,
      ...(prepared.events ? { events: prepared.events } : {}),
      onFatal: (e) => fatal?.(e),
    });
    let http: string | undefined;
    try {
      const at = await prepared.listen(runner);
      if (at) http = formatListenAddress(at);
    } catch (e) {
      // The node took no job yet that it cannot leave to its next start: leave them, say why, exit.
      await runner.close({ force: true });
      throw e;
    }
    io.stdout.write(readyLine(runner, g.json, http));
    return untilSignalled(runner, log, prepared, (f) => (fatal = f));
  },
};
