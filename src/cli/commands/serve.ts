/** `stasis serve`: runs one runner node until SIGINT/SIGTERM (a second signal leaves containers running). */
import path from 'node:path';
import type { Command } from '../command.js';
import { parseCommandArgs, resolveGlobals, usageError } from '../args.js';
import { startRunner } from '../../node/runner.js';
import { loadPolicy } from '../../policy/load.js';
import { SERVE_WARM_POOL } from '../../warm/pool.js';

function positiveInt(v: string | undefined, flag: string): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) <= 0) throw usageError(`Expected \`${flag}\` to be a whole number above 0, got \`${v}\``);
  return Number(v);
}

/** `stasis serve`. */
export const serveCommand: Command = {
  name: 'serve',
  summary: 'Run a runner node: take jobs from the queue and run them in containers',
  usage: `Usage: stasis serve [options]

      --redis URL          Redis (default: REDIS_URL, else an embedded redis-server under the state dir)
      --queue NAME         queue to consume (default: STASIS_QUEUE or 'stasis')
      --node-id ID         this node's stable id (default: STASIS_NODE_ID or the hostname); a restart
                           with the same id and state dir re-attaches to the containers it left running
      --concurrency N      jobs at once (default 8)
      --threads N          worker threads of the task pool (default 2)
      --kill-grace MS      SIGTERM → SIGKILL grace of a re-attached task whose own grace is unknown (default
                           2000; each job's grace is limits.killGrace, default from the policy: 2 s)
      --lock-duration MS   BullMQ lock duration (default 30000)
      --state-dir DIR      state directory (default: STASIS_STATE_DIR or /var/lib/stasis)
      --checkpoint-dir DIR checkpoint store, shared between nodes to migrate (default: STASIS_CHECKPOINT_DIR;
                           unset = no checkpoints)
      --checkpoint-keep N  checkpoints kept per job (default 2)
      --drain-timeout MS   SIGTERM drain: time to checkpoint/hand back jobs before killing them (default 60000)
      --stalled-interval MS  BullMQ stalled-job check (default 30000)
      --max-hand-backs N   hand-backs of one job (reserved for another node, incompatible checkpoint) before
                           it fails as unplaceable (default 20)
Node policy (docs/security.md; producers cannot change it):
      --policy FILE        the node policy JSON: allowed rootfs roots, host network, default and maximum
                           limits, per-namespace rules, user namespace, seccomp (default: STASIS_POLICY)
      --allow-rootfs DIR   a directory whose subdirectories payloads may name as \`rootfs\` (repeatable;
                           env STASIS_ALLOW_ROOTFS=DIR:DIR); the node's busybox rootfs is always allowed
      --allow-host-network let payloads ask for \`network: "host"\` (env STASIS_ALLOW_HOST_NETWORK=1)
      --userns MODE        private (default: container root is an unprivileged host id), host (off), or
                           HOSTID:SIZE (env STASIS_USERNS); every node that migrates jobs uses the same
      --seccomp PROFILE    default, unconfined, or an OCI seccomp JSON file (env STASIS_SECCOMP)
      --json               print the start line as JSON

Env STASIS_WARM_POOL=N: prepared sandboxes kept per (rootfs, user, network, limits) so a job only runs
\`runc start\` (default 2; 0 = off; jobs with a timeout, a tty or stdin never use them; docs/runtime.md).

SIGINT/SIGTERM without a checkpoint store: stop taking jobs and wait for running ones. A second signal
exits at once; running containers keep running under their monitors and are re-attached by the next start.
With --checkpoint-dir, SIGINT/SIGTERM drains: running jobs are checkpointed and handed back to the queue
(per their checkpoint.onDrain policy), then the node exits; a second signal or the drain timeout kills
what is left and hands it back (docs/migration.md).`,
  async run(args, io) {
    const { values } = parseCommandArgs(args, {
      redis: { type: 'string' },
      queue: { type: 'string' },
      'node-id': { type: 'string' },
      concurrency: { type: 'string' },
      threads: { type: 'string' },
      'kill-grace': { type: 'string' },
      'lock-duration': { type: 'string' },
      'state-dir': { type: 'string' },
      'checkpoint-dir': { type: 'string' },
      'checkpoint-keep': { type: 'string' },
      'drain-timeout': { type: 'string' },
      'stalled-interval': { type: 'string' },
      'max-hand-backs': { type: 'string' },
      policy: { type: 'string' },
      'allow-rootfs': { type: 'string', multiple: true },
      'allow-host-network': { type: 'boolean' },
      userns: { type: 'string' },
      seccomp: { type: 'string' },
      json: { type: 'boolean' },
    });
    const policy = loadPolicy(
      {
        ...(values.policy ? { file: values.policy } : {}),
        ...(values['allow-rootfs'] ? { allowRootfs: values['allow-rootfs'] } : {}),
        ...(values['allow-host-network'] ? { allowHostNetwork: true } : {}),
        ...(values.userns ? { userns: values.userns } : {}),
        ...(values.seccomp ? { seccomp: values.seccomp } : {}),
      },
      io.env,
    );
    const g = resolveGlobals({ 'state-dir': values['state-dir'], json: values.json }, io.env);
    const concurrency = positiveInt(values.concurrency, '--concurrency');
    const threads = positiveInt(values.threads, '--threads');
    const killGraceMs = positiveInt(values['kill-grace'], '--kill-grace');
    const lockDurationMs = positiveInt(values['lock-duration'], '--lock-duration');
    const checkpointKeep = positiveInt(values['checkpoint-keep'], '--checkpoint-keep');
    const drainTimeoutMs = positiveInt(values['drain-timeout'], '--drain-timeout');
    const stalledIntervalMs = positiveInt(values['stalled-interval'], '--stalled-interval');
    const maxHandBacks = positiveInt(values['max-hand-backs'], '--max-hand-backs');
    const checkpointDir = values['checkpoint-dir'] ? path.resolve(values['checkpoint-dir']) : undefined;
    // Prepared sandboxes for this node's worker threads (docs/runtime.md; STASIS_WARM_POOL=0 turns them off).
    process.env.STASIS_WARM_POOL = io.env.STASIS_WARM_POOL ?? String(SERVE_WARM_POOL);
    if (policy.userns === 'host') io.stderr.write('stasis serve: warning: user namespaces are off (--userns host): a container\'s root is the host\'s root\n');
    const runner = await startRunner({
      env: io.env,
      policy,
      runtime: { stateDir: g.stateDir },
      runner: {
        ...(values.redis ? { redisUrl: values.redis } : {}),
        ...(values.queue ? { queue: values.queue } : {}),
        ...(values['node-id'] ? { nodeId: values['node-id'] } : {}),
        ...(concurrency ? { concurrency } : {}),
        ...(threads ? { threads } : {}),
        ...(killGraceMs !== undefined ? { killGraceMs } : {}),
        ...(lockDurationMs !== undefined ? { lockDurationMs } : {}),
        ...(checkpointDir ? { checkpointDir } : {}),
        ...(checkpointKeep !== undefined ? { checkpointKeep } : {}),
        ...(drainTimeoutMs !== undefined ? { drainTimeoutMs } : {}),
        ...(stalledIntervalMs !== undefined ? { stalledIntervalMs } : {}),
        ...(maxHandBacks !== undefined ? { maxHandBacks } : {}),
      },
      onError: (e) => io.stderr.write(`stasis serve: ${e instanceof Error ? e.message : String(e)}\n`),
    });
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
    io.stdout.write(
      g.json
        ? `${JSON.stringify(start)}\n`
        : `stasis serve: node ${c.nodeId} consuming queue ${c.queue} on ${runner.redisTarget} (concurrency ${c.concurrency}, state ${runner.runtime.stateDir}); recovered: ${runner.recovery.adopted.length} adopted, ${runner.recovery.orphaned.length} kept, ${runner.recovery.discarded.length} discarded\n`,
    );
    return new Promise<number>((resolve) => {
      let signals = 0;
      let drain: ReturnType<typeof runner.drain> | undefined;
      const onSignal = () => {
        signals++;
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
          io.stderr.write('stasis serve: closing (waiting for running jobs; signal again to exit now)\n');
          void runner.close().then(() => resolve(0), () => resolve(1));
        } else {
          void runner.close({ force: true }).finally(() => resolve(130));
        }
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
    });
  },
};
