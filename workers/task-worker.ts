/**
 * The Piscina entry of the task pool (compiled to dist/workers/task-worker.js). Thin on purpose: it
 * refuses to load on the main thread, starts the thread's spawn helper, and hands every request to
 * src/pool/worker/handle.ts.
 */
import { isMainThread } from 'node:worker_threads';
import type { PoolRequest, PoolResponse } from '../src/pool/protocol.js';
import { handleRequest } from '../src/pool/worker/handle.js';
import { useSpawnHelper } from '../src/os/command.js';

if (isMainThread) {
  throw new Error('workers/task-worker.js is a Piscina worker entry; it must not be loaded on the main thread');
}
// mount, umount and runc are forked by a small helper process, not by this large node (docs/bench.md).
// Started with the thread: its start-up (a node process, ~14 MB) is then neither on the path of the
// thread's first job nor a step in the node's memory while tasks run.
useSpawnHelper({ eager: true });

/** Handles one pool request (errors come back as data, never thrown). */
export default function taskWorker(req: PoolRequest): Promise<PoolResponse<unknown>> {
  return handleRequest(req);
}
