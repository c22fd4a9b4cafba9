/**
 * Which Redis stasis talks to: `--redis URL` beats `REDIS_URL`, which beats the embedded Redis under
 * the state directory. Produces ioredis options in the shape BullMQ needs (maxRetriesPerRequest: null).
 */
import type { RedisOptions } from 'ioredis';
import { errors } from '../errors.js';
import { ensureEmbeddedRedis, type EmbeddedRedis } from './embedded-redis.js';

/** Where the Redis connection came from. */
export type ConnectionSource = 'flag' | 'env' | 'embedded';

/** The decision of resolveConnection before any I/O (pure). */
export type ConnectionChoice = { source: 'flag' | 'env'; url: string } | { source: 'embedded' };

/** A resolved connection: ioredis options plus a close hook for the embedded server's lease. */
export interface ResolvedConnection {
  source: ConnectionSource;
  /** ioredis options for Queue, Worker, QueueEvents (each makes its own connections from them). */
  options: RedisOptions;
  /** Human-readable target without credentials (`redis://host:6379/0`, `unix:/…/redis.sock`). */
  target: string;
  /** The embedded server's lease when source is 'embedded'. */
  embedded: EmbeddedRedis | null;
  /** Releases the embedded server's lease (the last user stops it); no-op for a URL. */
  release(): Promise<void>;
}

/** Picks the connection source: flag, then REDIS_URL, then embedded. Empty strings count as unset. */
export function chooseConnection(flag: string | undefined, env: NodeJS.ProcessEnv): ConnectionChoice {
  if (flag !== undefined && flag !== '') return { source: 'flag', url: flag };
  const fromEnv = env.REDIS_URL;
  if (fromEnv !== undefined && fromEnv !== '') return { source: 'env', url: fromEnv };
  return { source: 'embedded' };
}

/** Options every stasis Redis connection carries (BullMQ requires maxRetriesPerRequest: null). */
export const BASE_REDIS_OPTIONS = { maxRetriesPerRequest: null } as const satisfies RedisOptions;

/**
 * Parses a Redis URL into ioredis options (pure): `redis://[user:pass@]host[:port][/db]`,
 * `rediss://…` (TLS), `unix:///path/redis.sock` or `redis+unix:///path?db=N`.
 * Throws ERR_INVALID_ARGUMENT naming `field` on anything else.
 */
export function redisOptionsFromUrl(url: string, field = 'redis'): RedisOptions {
  const bad = (why: string) =>
    errors.invalidArgument(`Expected \`${field}\` to be a Redis URL like \`redis://localhost:6379\`, got \`${redact(url)}\` (${why})`, {
      field,
    });
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw bad('not a URL');
  }
  const auth: RedisOptions = {};
  if (u.username) auth.username = decodeURIComponent(u.username);
  if (u.password) auth.password = decodeURIComponent(u.password);
  const dbParam = u.searchParams.get('db');
  const dbOf = (s: string | null): number | undefined => {
    if (s === null || s === '') return undefined;
    if (!/^\d+$/.test(s)) throw bad(`database \`${s}\` is not a number`);
    return Number(s);
  };
  switch (u.protocol) {
    case 'redis:':
    case 'rediss:': {
      if (!u.hostname) throw bad('no host');
      const port = u.port === '' ? 6379 : Number(u.port);
      const db = dbOf(u.pathname.replace(/^\//, '') || dbParam);
      return {
        ...BASE_REDIS_OPTIONS,
        host: u.hostname.replace(/^\[|\]$/g, ''),
        port,
        ...auth,
        ...(db !== undefined ? { db } : {}),
        ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
      };
    }
    case 'unix:':
    case 'redis+unix:': {
      if (!u.pathname || u.pathname === '/') throw bad('no socket path');
      const db = dbOf(dbParam);
      return { ...BASE_REDIS_OPTIONS, path: decodeURIComponent(u.pathname), ...auth, ...(db !== undefined ? { db } : {}) };
    }
    default:
      throw bad(`unsupported scheme \`${u.protocol}\``);
  }
}

/** The URL with its password replaced by `***` (for messages and logs). */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//***@');
  }
}

/** Options of resolveConnection. */
export interface ResolveConnectionOptions {
  /** `--redis URL`. */
  redis?: string;
  env?: NodeJS.ProcessEnv;
  /** State directory of the embedded Redis (used only when no URL is configured). */
  stateDir: string;
  /** redis-server binary for the embedded server. */
  redisServer?: string;
}

/** Resolves the connection, starting (or reusing) the embedded Redis when no URL is configured. */
export async function resolveConnection(o: ResolveConnectionOptions): Promise<ResolvedConnection> {
  const choice = chooseConnection(o.redis, o.env ?? process.env);
  if (choice.source !== 'embedded') {
    const options = redisOptionsFromUrl(choice.url, choice.source === 'flag' ? '--redis' : 'REDIS_URL');
    return { source: choice.source, options, target: redact(choice.url), embedded: null, release: async () => {} };
  }
  const embedded = await ensureEmbeddedRedis({ stateDir: o.stateDir, ...(o.redisServer ? { redisServer: o.redisServer } : {}) });
  return {
    source: 'embedded',
    options: { ...BASE_REDIS_OPTIONS, path: embedded.socket },
    target: `unix:${embedded.socket}`,
    embedded,
    release: async () => {
      await embedded.release();
    },
  };
}
