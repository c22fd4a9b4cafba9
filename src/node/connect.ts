/** Where a runner node's Redis is: given options, --redis / REDIS_URL, or the embedded redis-server. */
import type { RedisOptions } from 'ioredis';
import type { RunnerConfig } from '../config/runner.js';
import type { RuntimeConfig } from '../config/schema.js';
import { resolveConnection, type ResolvedConnection } from '../queue/connection.js';

/** A node's Redis: the ioredis options, a printable target, and the embedded server's lease (if any). */
export interface NodeConnection {
  options: RedisOptions;
  /** `unix:/…/redis.sock`, `redis://host:6379`. */
  target: string;
  /** Held while the node uses an embedded Redis; released at close. */
  resolved: ResolvedConnection | null;
}

/** Resolves the node's Redis (explicit options win; else the config's URL; else the embedded one). */
export async function connectNode(given: RedisOptions | undefined, config: RunnerConfig, runtime: RuntimeConfig): Promise<NodeConnection> {
  if (given) {
    const target = given.path ? `unix:${given.path}` : `redis://${given.host ?? 'localhost'}:${given.port ?? 6379}`;
    return { options: { ...given, maxRetriesPerRequest: null }, target, resolved: null };
  }
  const resolved = await resolveConnection({ ...(config.redisUrl ? { redis: config.redisUrl } : {}), env: {}, stateDir: runtime.stateDir });
  return { options: resolved.options, target: resolved.target, resolved };
}
