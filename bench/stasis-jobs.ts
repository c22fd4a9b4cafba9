/**
 * stasis end to end: the same `true` container as a stasis job, measured from the producer's
 * `queue.add` until it sees the result (`job.waitUntilFinished` over QueueEvents). The runner node is
 * `stasis serve` in a child process (or in-process with --runner inprocess), concurrency = parallel,
 * on the embedded Redis under the bench's state directory.
 */
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, QueueEvents } from 'bullmq';
import { execaNode, type ResultPromise } from 'execa';
import { runtimePaths } from '../src/config/load.js';
import { Runc } from '../src/runc/runc.js';
import { resolveConnection } from '../src/queue/connection.js';
import { isJobResult } from '../src/queue/result.js';
import { startRunner, type Runner } from '../src/node/runner.js';
import { latencyMeasurements, type ScenarioResult } from './report.js';
import type { BenchContext, Scenario } from './scenario.js';

/** Where the runner node runs. */
export type RunnerMode = 'child' | 'inprocess';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');

/** Builds the stasis scenario. */
export function stasisJobs(mode: RunnerMode): Scenario {
  return {
    name: 'stasis job end to end',
    async run(ctx: BenchContext): Promise<ScenarioResult> {
      const queueName = `bench-${randomUUID().slice(0, 8)}`;
      const conn = await resolveConnection({ env: {}, stateDir: ctx.stateDir });
      // Last resort after the runner has stopped: no container of this run may outlive it.
      const runc = new Runc({ binary: ctx.runc, root: runtimePaths({ stateDir: ctx.stateDir }).runcRoot });
      ctx.defer(async () => {
        for (const c of await runc.list().catch(() => [])) await runc.delete(c.id, true).catch(() => undefined);
      });
      ctx.defer(() => conn.release());
      const queue = new Queue(queueName, { connection: conn.options });
      const events = new QueueEvents(queueName, { connection: conn.options });
      ctx.defer(async () => {
        await events.close();
        await queue.close();
      });
      await events.waitUntilReady();

      let runner: Runner | null = null;
      let child: ResultPromise | null = null;
      if (mode === 'inprocess') {
        runner = await startRunner({
          connection: conn.options,
          runtime: { stateDir: ctx.stateDir, runc: ctx.runc },
          runner: { queue: queueName, concurrency: ctx.parallel, nodeId: 'bench' },
          env: {},
        });
        const r = runner;
        ctx.defer(() => r.close());
      } else {
        child = execaNode(
          CLI,
          ['serve', '--state-dir', ctx.stateDir, '--queue', queueName, '--concurrency', String(ctx.parallel), '--node-id', 'bench'],
          { env: { STASIS_RUNC: ctx.runc, REDIS_URL: '' }, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe', reject: false },
        );
        const c = child;
        ctx.defer(async () => {
          c.kill('SIGTERM');
          await Promise.race([c, sleep(30_000)]);
          if (c.exitCode === null) c.kill('SIGKILL');
        });
        const deadline = Date.now() + 60_000;
        while ((await queue.getWorkersCount()) === 0) {
          if (c.exitCode !== null || Date.now() > deadline) {
            const r = await Promise.race([c, sleep(100).then(() => null)]);
            throw new Error(`stasis serve did not come up: ${r?.stderr ?? 'timeout'}`);
          }
          await sleep(50);
        }
      }

      const one = async (): Promise<number> => {
        const t0 = performance.now();
        const job = await queue.add('bench', { command: ['/bin/true'] }, { removeOnComplete: true });
        const rv: unknown = await job.waitUntilFinished(events, 60_000);
        const ms = performance.now() - t0;
        if (!isJobResult(rv) || rv.exitStatus !== 0) throw new Error(`bench job ${job.id} did not exit 0: ${JSON.stringify(rv)}`);
        return ms;
      };

      for (let i = 0; i < 3; i++) await one(); // warm-up: pool threads, rootfs, cgroups
      const seq: number[] = [];
      for (let i = 0; i < ctx.runs; i++) {
        seq.push(await one());
        ctx.progress.tick('stasis jobs, sequential', i + 1, ctx.runs);
      }
      const par: number[] = [];
      let started = 0;
      const t0 = performance.now();
      await Promise.all(
        Array.from({ length: ctx.parallel }, async () => {
          while (started < ctx.throughputRuns) {
            started++;
            par.push(await one());
            ctx.progress.tick(`stasis jobs, ${ctx.parallel} in parallel`, par.length, ctx.throughputRuns);
          }
        }),
      );
      const elapsed = (performance.now() - t0) / 1000;
      return {
        scenario: 'stasis job end to end',
        group: 'true container',
        kind: 'stasis',
        measurements: [
          ...latencyMeasurements(seq, '`true`'),
          { metric: 'throughput', label: `throughput, ${ctx.parallel} in parallel`, unit: '/s', value: par.length / elapsed, better: 'higher' },
        ],
        samples: { sequential: seq, parallel: par },
        notes: [
          `queue.add → waitUntilFinished; runner ${mode === 'child' ? '`stasis serve` child process' : 'in-process'}, concurrency ${ctx.parallel}, embedded Redis (unix socket)`,
          'each job: zod payload check, overlay rootfs, conmon + runc create/start, exit file, stats, result envelope, task delete',
        ],
      };
    },
  };
}
