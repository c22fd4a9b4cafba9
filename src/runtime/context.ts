/** What every part of the runtime shares within one process: config, layout, the runc client. */
import path from 'node:path';
import type { RuntimeConfig, RuntimePaths } from '../config/schema.js';
import { Runc } from '../runc/runc.js';
import type { OciSpec } from '../sandbox/types.js';
import type { CreateTaskOptions, Task } from './task.js';
import { locksDir } from './layout.js';

/** The runtime name recorded in TaskInfo.runtime. */
export const RUNTIME_NAME = 'io.stasis.runc';

/** Shared runtime context. */
export interface RuntimeContext {
  config: RuntimeConfig;
  paths: RuntimePaths;
  runc: Runc;
  /** Prepared sandboxes to adopt on create (src/warm), when the manager was opened with a warm pool. */
  warm?: WarmAdopter;
}

/** What create needs of a warm pool: a task adopted from a prepared sandbox, or undefined (create normally). */
export interface WarmAdopter {
  adopt(o: CreateTaskOptions, a: { namespace: string; id: string; rootfs: string; spec: OciSpec }): Promise<Task | undefined>;
}

/** Builds the context for a loaded config. */
export function makeContext(config: RuntimeConfig, paths: RuntimePaths): RuntimeContext {
  return { config, paths, runc: new Runc({ binary: config.runc, root: paths.runcRoot, criu: config.criu }) };
}

/** The lock file of task `id` in `namespace`. */
export function taskLockFile(ctx: RuntimeContext, namespace: string, id: string): string {
  return path.join(locksDir(ctx.paths.stateDir), `${namespace}+${id}.lock`);
}
