/** Opening a StasisClient from the job commands' flags (--redis, --queue, --state-dir). */
import { GLOBAL_SPECS } from './args.js';
import type { OptionSpecs } from './options.js';
import { StasisClient, queueNameFrom } from '../queue/client.js';
import { resolveConnection, type ResolvedConnection } from '../queue/connection.js';

/** Flags of every job command (status, logs, result, cancel, job …): where the queue is. */
export const QUEUE_OPTIONS = {
  redis: { type: 'string', value: 'URL', group: 'Queue', help: 'Redis to use', env: 'REDIS_URL', default: 'the embedded Redis under the state dir' },
  queue: { type: 'string', short: 'q', value: 'NAME', group: 'Queue', help: 'queue name', env: 'STASIS_QUEUE', default: 'stasis' },
  'state-dir': { ...GLOBAL_SPECS['state-dir'], group: 'Queue' },
  // Jobs carry their own namespace; -n is still accepted as every command accepts it.
  namespace: { ...GLOBAL_SPECS.namespace, hidden: true },
} as const satisfies OptionSpecs;

/** A client plus the connection it runs on; close() releases both. */
export interface OpenClient {
  client: StasisClient;
  conn: ResolvedConnection;
  close(): Promise<void>;
}

/** Where a client connects: --redis (else REDIS_URL, else the embedded Redis of the state dir) and --queue. */
export interface JobClientTarget {
  redis: string | undefined;
  queue: string | undefined;
  stateDir: string;
  env: NodeJS.ProcessEnv;
}

/** Resolves the connection (starting/reusing the embedded Redis when none is configured) and opens a client. */
export async function openJobClient(o: JobClientTarget): Promise<OpenClient> {
  const conn = await resolveConnection({ ...(o.redis !== undefined ? { redis: o.redis } : {}), env: o.env, stateDir: o.stateDir });
  const client = new StasisClient({ connection: conn.options, queue: queueNameFrom(o.queue, o.env) });
  return {
    client,
    conn,
    async close() {
      await client.close();
      await conn.release();
    },
  };
}

/** Opens a client, runs `fn` with it and closes it again, whether `fn` succeeds or throws. */
export async function withJobClient<T>(o: JobClientTarget, fn: (open: OpenClient) => Promise<T>): Promise<T> {
  const open = await openJobClient(o);
  try {
    return await fn(open);
  } finally {
    await open.close();
  }
}
