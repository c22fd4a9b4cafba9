/**
 * The read-only Bull Board at `/ui` (`stasis serve --ui`): the node's queue with its jobs, their
 * payloads, envelopes (long outputs cut for display, ui-format.ts) and logs. Read-only twice over:
 * Bull Board's own readOnlyMode (no retry, clean, pause, add, …) and, in server.ts, a refusal of
 * every request under /ui that is not GET or HEAD.
 */
import type { Queue } from 'bullmq';
import type { FastifyInstance } from 'fastify';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import { displayData, displayResult } from './ui-format.js';

/** Where the board lives. */
export const UI_PATH = '/ui';

/** Mounts the board of `queue` on `app` under UI_PATH. */
export async function mountBoard(app: FastifyInstance, queue: Queue, o: { nodeId: string }): Promise<void> {
  const adapter = new BullMQAdapter(queue, { readOnlyMode: true, description: `as seen from node ${o.nodeId}` });
  adapter.setFormatter('returnValue', (v: unknown) => displayResult(v));
  adapter.setFormatter('data', (v: unknown) => displayData(v));
  const server = new FastifyAdapter();
  server.setBasePath(UI_PATH);
  createBullBoard({ queues: [adapter], serverAdapter: server, options: { uiConfig: { boardTitle: 'stasis' } } });
  await app.register(server.registerPlugin(), { prefix: UI_PATH });
}
