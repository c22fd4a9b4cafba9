/**
 * A runner node's errors, warnings and lifecycle events on its logger. Every background error goes
 * through the node's OutageWatch first (src/queue/outage.ts), so a Redis outage is one warning when it
 * starts and one line when it ends, however many clients and retries saw it; warnings that are only
 * a symptom of the outage (a job.log write that failed meanwhile) go the same way.
 */
import { fanOut, noEvents, type NodeEventSink } from '../events/node-events.js';
import type { Logger, LogFields } from '../log/logger.js';
import { logError, logNodeEvent } from '../log/node-events.js';
import { isConnectionError, OutageWatch, RedisOutage } from '../queue/outage.js';

/** The node's paths to its log. */
export interface NodeLog {
  outage: OutageWatch;
  /** A background error (through the outage watch). */
  error(e: unknown): void;
  /** A failure that ends nothing (through the outage watch when it is Redis being away). */
  warn(e: unknown, fields?: LogFields): void;
  /** The lifecycle events: a log line each, then the caller's sink. */
  events: NodeEventSink;
}

/** Builds the paths; `onError` (the caller's) also sees every error the log gets. */
export function nodeLog(log: Logger, o: { onError?: (e: unknown) => void; events?: NodeEventSink } = {}): NodeLog {
  const outage = new OutageWatch((e) => {
    if (e instanceof RedisOutage) {
      if (e.state === 'down') log.warn({ event: 'redis-unreachable' }, e.message);
      else log.info({ event: 'redis-reachable', downMs: e.downMs }, e.message);
    } else {
      logError(log, e);
    }
    o.onError?.(e);
  });
  const error = (e: unknown) => outage.error('node', e);
  return {
    outage,
    error,
    warn(e, fields = {}) {
      if (isConnectionError(e)) return outage.error('node', e);
      logError(log, e, fields, 'warn');
    },
    events: fanOut([(e) => logNodeEvent(log, e), o.events ?? noEvents], error),
  };
}
