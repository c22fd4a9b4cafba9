/**
 * The operations side of `stasis serve` (docs/operations.md): metrics fed by the node's events, the
 * host checks readiness waits for, and the HTTP server (`--http`, `--ui`). The HTTP modules are
 * imported only when `--http` is set.
 */
import type { Runner } from '../node/runner.js';
import type { RunnerConfig } from '../config/runner.js';
import type { RuntimeConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { NodeEventSink } from '../events/node-events.js';
import type { HostGate } from '../health/readiness.js';
import type { ListenAddress } from '../http/address.js';
import type { NodeMetrics } from '../metrics/node-metrics.js';
import type { OpsSettings } from './serve-options.js';
import { BUSYBOX_BINARY } from '../sandbox/busybox.js';
import { mountAddonState } from '../sandbox/mount-table.js';
import { seccompLoaderState } from '../runtime/compiled-seccomp.js';
import { nativeStartState } from '../runtime/native-start.js';
import { sealedRuncState } from '../runc/sealed-binary.js';
import { nativeSpawnState } from '../os/native-spawn.js';

/** How long a scrape waits for BullMQ's queue counts from Redis. */
const QUEUE_METRICS_TIMEOUT_MS = 2_000;

/** The operations of one serve: started before the runner (events from its recovery count), bound to it after. */
export interface ServeOps {
  /** The runner's event sink for the metrics (undefined without --http). */
  events?: NodeEventSink;
  /** Starts the HTTP server on the started runner; resolves to where it listens. */
  listen(runner: Runner): Promise<ListenAddress | undefined>;
  close(): Promise<void>;
}

/** Prepares what `ops` asks for: nothing without --http. */
export async function prepareOps(
  ops: OpsSettings,
  o: { config: RunnerConfig; runtime: Pick<RuntimeConfig, 'runc' | 'conmon' | 'criu' | 'init'>; env: NodeJS.ProcessEnv; log: Logger; userns: string },
): Promise<ServeOps> {
  if (!ops.http) return { listen: async () => undefined, close: async () => undefined };
  const address = ops.http;
  const [{ NodeMetrics }, { readiness }] = await Promise.all([import('../metrics/node-metrics.js'), import('../health/readiness.js')]);
  let runner: Runner | undefined;
  let gate: HostGate = { state: 'pending' };
  const input = () => ({ phase: runner?.phase ?? ('starting' as const), redisReachable: runner?.redisReachable ?? true, host: gate });
  const metrics: NodeMetrics = new NodeMetrics({
    nodeId: o.config.nodeId,
    queue: o.config.queue,
    gauges: {
      tasksRunning: () => runner?.runningTasks() ?? 0,
      jobsActive: () => runner?.consumer.activeJobs().length ?? 0,
      redisUp: () => runner?.redisReachable ?? false,
      ready: () => readiness(input()).ready,
    },
  });
  void checkHost(o).then((g) => {
    gate = g;
    for (const f of g.failed) o.log.error({ event: 'host-check', check: f }, `host check failed (the node is not ready): ${f}`);
    for (const w of g.warnings) o.log.warn({ event: 'host-check', check: w }, `host check: ${w}`);
  });
  let server: { close(): Promise<void> } | undefined;
  return {
    events: metrics.observe,
    async listen(r) {
      runner = r;
      const [{ startHttpServer }, { queueMetricsText }] = await Promise.all([import('../http/server.js'), import('../metrics/queue-metrics.js')]);
      const s = await startHttpServer({
        address,
        metrics,
        log: o.log,
        ...(ops.ui ? { ui: r.queue } : {}),
        node: {
          nodeId: o.config.nodeId,
          readiness: input,
          queueMetrics: () => queueMetricsText(r.queue, { reachable: r.redisReachable, timeoutMs: QUEUE_METRICS_TIMEOUT_MS }),
        },
      });
      server = s;
      return s.address;
    },
    close: async () => {
      await server?.close();
    },
  };
}

/** Runs the host checks once (the node's own binaries) and sorts them for readiness. */
async function checkHost(o: { runtime: Pick<RuntimeConfig, 'runc' | 'conmon' | 'criu' | 'init'>; env: NodeJS.ProcessEnv; userns: string }): Promise<Extract<HostGate, { state: 'done' }>> {
  try {
    const [{ runHostChecks }, { hostProbe }, { hostGate }] = await Promise.all([import('../host/checks.js'), import('../host/probe.js'), import('../health/host-gate.js')]);
    const results = await runHostChecks(hostProbe(o.env), {
      runc: o.runtime.runc,
      conmon: o.runtime.conmon,
      criu: o.runtime.criu,
      busybox: o.env.STASIS_BUSYBOX ?? BUSYBOX_BINARY,
      init: o.runtime.init,
      userns: o.userns,
      mountAddon: mountAddonState(o.env),
      sealedRunc: sealedRuncState(o.env),
      nativeSpawn: nativeSpawnState(o.env),
      seccompLoader: seccompLoaderState(o.env),
      nativeStart: nativeStartState(o.env),
    });
    return hostGate(results);
  } catch (e) {
    return { state: 'done', failed: [`the host checks could not run: ${e instanceof Error ? e.message : String(e)}`], warnings: [] };
  }
}
