/**
 * The file Piscina loads in each worker thread, in CommonJS on purpose. Piscina `require()`s its
 * entry first; on node 20.19+ that is a synchronous require of an ES module graph, and a thread
 * terminated in the middle of it (a pool destroyed while its threads still load) aborts the whole
 * process (`v8::Module::IsGraphAsync must be used on an instantiated module`). This entry loads the
 * real worker (task-worker.js, an ES module) with import(), which a terminated thread simply abandons.
 */
type Worker = typeof import('./task-worker.js');

const loading: Promise<Worker> = import('./task-worker.js');
// Every request awaits `loading` and carries its error; without this a failed load would also be an
// unhandled rejection that kills the thread before the first request could report it.
loading.catch(() => undefined);

/** Hands one pool request to the worker once it is loaded. */
async function taskWorker(req: Parameters<Worker['default']>[0]): ReturnType<Worker['default']> {
  return (await loading).default(req);
}

export = taskWorker;
