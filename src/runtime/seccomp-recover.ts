/**
 * Recovery of the compiled seccomp profile's files (src/runtime/compiled-seccomp.ts): probe
 * containers a crash left (a node killed in its one ~100 ms probe leaves a created container, its
 * `runc init` waiting, and its bundle), and the filters and loader copies of earlier builds, runc
 * versions or profiles, and the native start's copies of earlier builds (native-start.ts). Running
 * tasks hold theirs through bind mounts, and a restore binds this node's current ones, so only the
 * current files are needed on disk.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { RuntimeContext } from './context.js';
import { compiledSeccompDir, filterLock, PROBE_PREFIX, probeBundlesDir } from './compiled-seccomp.js';
import { withLock } from './lock.js';
import { nativeStartDir } from './native-start.js';

/** Deletes leftover probe containers and stale compiled files. Never throws. */
export async function recoverCompiledSeccomp(ctx: RuntimeContext): Promise<void> {
  const current = ctx.sandbox.seccompLoader;
  const sweep = async () => {
    await sweepProbes(ctx);
    await pruneFiles(compiledSeccompDir(ctx.paths.stateDir), current ? [current.loader, current.filter] : []);
    // The native start's copies of earlier builds (a restore binds this node's current one).
    await pruneFiles(nativeStartDir(ctx.paths.stateDir), ctx.sandbox.starter ? [ctx.sandbox.starter.start, ctx.sandbox.starter.restore] : []);
  };
  // The lock keeps out this node's other threads, whose probe (made under it) is not a leftover. Not
  // had in time (a probe of theirs that hangs): nothing is swept now, the next start tries again.
  return current ? withLock(filterLock(current.filter), sweep).catch(() => undefined) : sweep();
}

/** Force-deletes every probe container under the node's runc root and removes probe bundles. */
async function sweepProbes(ctx: RuntimeContext): Promise<void> {
  // No runc root yet: no container of any kind.
  const ids = (await fs.readdir(ctx.paths.runcRoot).catch(() => [] as string[])).filter((i) => i.startsWith(PROBE_PREFIX));
  for (const id of ids) {
    await ctx.runc.delete(id, true).catch(() => undefined); // already gone, or its state never written: checked below
    // runc keeps a directory it could not load (killed before state.json was written).
    if ((await ctx.runc.state(id).catch(() => null)) === null) await fs.rm(path.join(ctx.paths.runcRoot, id), { recursive: true, force: true });
  }
  const bundles = probeBundlesDir(ctx.paths.runDir);
  const names = await fs.readdir(bundles).catch(() => [] as string[]); // no bundles dir: no probe left one
  for (const name of names) await fs.rm(path.join(bundles, name), { recursive: true, force: true });
  await fs.rmdir(bundles).catch(() => undefined); // absent: nothing was left
}

/** Removes the files of `dir` that are not `keep` or their temp/lock siblings. */
async function pruneFiles(dir: string, keep: string[]): Promise<void> {
  const kept = new Set(keep.map((k) => path.basename(k)));
  // No seccomp dir: nothing was ever compiled here.
  for (const name of await fs.readdir(dir).catch(() => [] as string[])) {
    const base = name.replace(/\.(tmp-[0-9a-f]+|lock)$/, '');
    if (kept.has(base)) continue;
    const st = await fs.lstat(path.join(dir, name)).catch(() => null); // removed meanwhile
    if (!st?.isFile()) continue;
    await fs.rm(path.join(dir, name), { force: true });
  }
}
