/**
 * A runner node's Prometheus metrics (prom-client), in a registry of its own: counters and
 * histograms fed by the node's lifecycle events (one in-memory increment or observation per event,
 * nothing per job goes to Redis), gauges read from the node when scraped. Series: names.ts.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { NodeEvent } from '../events/node-events.js';
import { LabelCap, SERIES, seconds, type SeriesSpec } from './names.js';

/** What the gauges read from the node at scrape time. */
export interface NodeGauges {
  tasksRunning(): number;
  jobsActive(): number;
  redisUp(): boolean;
  ready(): boolean;
}

/** Options of NodeMetrics. */
export interface NodeMetricsOptions {
  nodeId: string;
  queue: string;
  gauges: NodeGauges;
  /** Distinct namespace label values before `_other` (default 100). */
  maxNamespaces?: number;
  /** prom-client's process_* and nodejs_* series (default true). */
  processMetrics?: boolean;
}

type Names<S extends SeriesSpec> = S['labels'][number];

/** The metrics of one node. */
export class NodeMetrics {
  readonly registry = new Registry();
  private readonly ns: LabelCap;
  private readonly taken;
  private readonly finished;
  private readonly handedBack;
  private readonly queueWait;
  private readonly startLatency;
  private readonly runTime;
  private readonly checkpointDuration;
  private readonly checkpointSize;
  private readonly restoreDuration;
  private readonly downtime;
  private readonly warm;

  constructor(o: NodeMetricsOptions) {
    this.ns = new LabelCap(o.maxNamespaces);
    this.registry.setDefaultLabels({ node: o.nodeId, queue: o.queue });
    const r = [this.registry];
    const counter = <S extends SeriesSpec>(s: S) => new Counter<Names<S>>({ name: s.name, help: s.help, labelNames: s.labels as readonly Names<S>[], registers: r });
    const histogram = <S extends SeriesSpec>(s: S) =>
      new Histogram<Names<S>>({ name: s.name, help: s.help, labelNames: s.labels as readonly Names<S>[], buckets: [...(s.buckets ?? [])], registers: r });
    const gauge = (s: SeriesSpec, read: () => number) =>
      new Gauge({
        name: s.name,
        help: s.help,
        registers: r,
        collect() {
          this.set(read());
        },
      });
    this.taken = counter(SERIES.jobsTaken);
    this.finished = counter(SERIES.jobsFinished);
    this.handedBack = counter(SERIES.jobsHandedBack);
    this.queueWait = histogram(SERIES.queueWait);
    this.startLatency = histogram(SERIES.startLatency);
    this.runTime = histogram(SERIES.runTime);
    this.checkpointDuration = histogram(SERIES.checkpointDuration);
    this.checkpointSize = histogram(SERIES.checkpointSize);
    this.restoreDuration = histogram(SERIES.restoreDuration);
    this.downtime = histogram(SERIES.migrationDowntime);
    this.warm = counter(SERIES.warmStarts);
    const g = o.gauges;
    gauge(SERIES.tasksRunning, () => g.tasksRunning());
    gauge(SERIES.jobsActive, () => g.jobsActive());
    gauge(SERIES.redisUp, () => (g.redisUp() ? 1 : 0));
    gauge(SERIES.ready, () => (g.ready() ? 1 : 0));
    if (o.processMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** Counts one lifecycle event (a NodeEventSink). */
  readonly observe = (e: NodeEvent): void => {
    switch (e.event) {
      case 'taken': {
        const namespace = this.ns.of(e.namespace);
        this.taken.inc({ namespace, adopted: String(e.adopted) });
        if (e.queueWaitMs !== undefined) this.queueWait.observe({ namespace }, seconds(e.queueWaitMs));
        return;
      }
      case 'started':
        if (e.startLatencyMs !== undefined) this.startLatency.observe({ namespace: this.ns.of(e.namespace), restored: String(e.restored) }, seconds(e.startLatencyMs));
        if (e.restoreMs !== undefined) this.restoreDuration.observe(seconds(e.restoreMs));
        if (e.downtimeMs !== undefined) this.downtime.observe(seconds(e.downtimeMs));
        if (e.warm) this.warm.inc({ result: e.warm });
        return;
      case 'exited':
        this.runTime.observe({ namespace: this.ns.of(e.namespace), reason: e.reason }, seconds(e.runMs));
        return;
      case 'posted':
        this.finished.inc({ namespace: this.ns.of(e.namespace), reason: e.reason, state: e.state });
        return;
      case 'checkpointed':
        if (e.durationMs !== undefined) this.checkpointDuration.observe({ reason: e.reason }, seconds(e.durationMs));
        if (e.bytes !== undefined) this.checkpointSize.observe({ reason: e.reason }, e.bytes);
        return;
      case 'migrated':
        this.handedBack.inc({ reason: e.reason });
        return;
      case 'handed-back':
        this.handedBack.inc({ reason: e.reason });
        return;
      case 'recovered':
      case 'drained':
        return;
      default: {
        const never: never = e;
        return void never;
      }
    }
  };

  /** The content type of `text()`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text of every series. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
