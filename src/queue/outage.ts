/**
 * Redis outages as the node sees them: every Redis client's and the BullMQ worker's 'error' events
 * come here, a connection error is reported once when Redis becomes unreachable and once when it is
 * back (not once per retry), and anything else is passed on as it is. Containers keep running
 * meanwhile; results wait for Redis (pipeline/post.ts).
 */
import type { Redis } from 'ioredis';

const CONNECTION = /ECONNREFUSED|connect ENOENT|ECONNRESET|ETIMEDOUT|ENOTFOUND|EPIPE|EHOSTUNREACH|ENETUNREACH|Connection is closed|connect ETIMEDOUT|socket closed|Stream isn't writeable/i;

/** True for an error that means Redis cannot be reached (rather than a command that failed). */
export function isConnectionError(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown };
  return CONNECTION.test(`${String(err?.code ?? '')} ${String(err?.message ?? e)}`);
}

/** What the watch reports when Redis goes away (`down`) or answers again (`up`): one of each per outage. */
export class RedisOutage extends Error {
  override name = 'RedisOutage';
  constructor(
    readonly state: 'down' | 'up',
    message: string,
    /** How long the outage lasted (`up` only), ms. */
    readonly downMs?: number,
  ) {
    super(message);
  }
}

/** One node's view of Redis reachability. */
export class OutageWatch {
  private since: number | null = null;

  constructor(private readonly report: (e: unknown) => void) {}

  /** True while Redis is unreachable. */
  get down(): boolean {
    return this.since !== null;
  }

  /** Watches a client's errors and reconnections; returns it. */
  watch(redis: Redis, name: string): Redis {
    redis.on('error', (e: unknown) => this.error(name, e));
    redis.on('ready', () => this.up());
    return redis;
  }

  /** An error from `source`: the start of an outage (reported once), or a real error (passed on). */
  error(source: string, e: unknown): void {
    if (!isConnectionError(e)) return this.report(e);
    if (this.since !== null) return;
    this.since = Date.now();
    this.report(new RedisOutage('down', `Redis is unreachable (${source}: ${e instanceof Error ? e.message : String(e)}); containers keep running and results wait for it`));
  }

  /** A client connected: the end of an outage, if there was one. */
  up(): void {
    if (this.since === null) return;
    const ms = Date.now() - this.since;
    this.since = null;
    this.report(new RedisOutage('up', `Redis is reachable again after ${Math.round(ms / 1000)} s`, ms));
  }
}
