/** Opening a StasisClient from the job commands' flags (--redis, --queue, --state-dir). */
import { GLOBAL_OPTIONS } from './args.js';
import { StasisClient, queueNameFrom } from '../queue/client.js';
import { resolveConnection, type ResolvedConnection } from '../queue/connection.js';

/** Flags of the read-side job commands (status, logs, result). */
export const QUEUE_OPTIONS = {
  ...GLOBAL_OPTIONS,
  redis: { type: 'string' },
  queue: { type: 'string', short: 'q' },
} as const;

/** Usage lines of QUEUE_OPTIONS. */
export const QUEUE_FLAGS_USAGE = `      --redis URL      Redis to use (default: REDIS_URL, else the embedded Redis under the state dir)
  -q, --queue NAME     queue name (default: STASIS_QUEUE, else "stasis")
      --state-dir DIR  state directory (default /var/lib/stasis, env STASIS_STATE_DIR)`;

/** A client plus the connection it runs on; close() releases both. */
export interface OpenClient {
  client: StasisClient;
  conn: ResolvedConnection;
  close(): Promise<void>;
}

/** Resolves the connection (starting/reusing the embedded Redis when none is configured) and opens a client. */
export async function openJobClient(o: {
  redis: string | undefined;
  queue: string | undefined;
  stateDir: string;
  env: NodeJS.ProcessEnv;
}): Promise<OpenClient> {
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
