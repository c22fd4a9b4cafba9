/**
 * The native start's files on a node (native/start.c; src/sandbox/starter.ts): which program new
 * tasks run as pid 1, and which one a restore maps again.
 *
 * Under a user namespace both are node-owned copies in STATE_DIR/start, mode 0711. New tasks get one
 * owned by host root: no process of the task can read it, so pid 1 is non-dumpable from its exec to
 * its load of the compiled filter, and no process of the task (an exec started at that moment) can
 * write into it before the filter is in place (compiled-seccomp.ts says the same of the loader).
 * CRIU, though, opens a restored process' program as the task's root, and checks that its mode is
 * the one it dumped: a restore maps the same bytes from a copy owned by the task's mapped root,
 * also 0711 (pid 1 is past its filter's load by then). Without a user namespace both are the build.
 */
import fs from '../os/local-fs.js';
import path from 'node:path';
import type { IdMapping } from '../config/schema.js';
import { nativeFile } from '../os/native-addon.js';
import { installExecOnly } from './compiled-seccomp.js';

/** Host paths of the native start. */
export interface NativeStart {
  /** What new tasks run. */
  start: string;
  /** What a restore maps again (the same bytes and mode, readable by the task's root). */
  restore: string;
}

/** Where a node keeps its copies. */
export function nativeStartDir(stateDir: string): string {
  return path.join(stateDir, 'start');
}

/** Whether the native start is built ('built'), turned off by STASIS_NATIVE_START=0, or 'missing'. */
export function nativeStartState(env: NodeJS.ProcessEnv = process.env): 'built' | 'off' | 'missing' {
  if (env.STASIS_NATIVE_START === '0') return 'off';
  return nativeFile('stasis-start') ? 'built' : 'missing';
}

/** The node's native start (its copies made once), or undefined: not built, or turned off (STASIS_NATIVE_START=0). */
export async function nativeStart(env: NodeJS.ProcessEnv, stateDir: string, userns: IdMapping | null): Promise<NativeStart | undefined> {
  const built = nativeStartState(env) === 'built' ? nativeFile('stasis-start') : null;
  if (!built) return undefined;
  if (!userns) return { start: built, restore: built };
  const dir = nativeStartDir(stateDir);
  await fs.mkdir(dir, { recursive: true, mode: 0o711 });
  await fs.chmod(dir, 0o711);
  return {
    start: await installExecOnly(built, dir, 'start', { uid: 0, gid: 0 }),
    restore: await installExecOnly(built, dir, 'restore', { uid: userns.hostId, gid: userns.hostId }),
  };
}
