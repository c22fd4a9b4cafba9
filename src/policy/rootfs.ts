/**
 * Where a job's rootfs may come from: the node's default rootfs and the directories the operator
 * allows (images are resolved by the node itself, never from a payload's path). The path is checked as given (so a path outside the roots
 * is refused without the node ever looking at it), then resolved with every symlink and checked again.
 * The resolved path is what the runtime uses. A rootfs may never be `/`, nor contain or sit inside
 * the state dir or the checkpoint store (docs/security.md).
 */
import path from 'node:path';
import local from '../os/local-fs.js';
import { errors } from '../errors.js';
import type { NodePolicy } from './schema.js';

/** What the rootfs rule needs to know about the node. */
export interface RootfsContext {
  /** The node's default rootfs (allowed as it is). */
  defaultRootfs: string;
  stateDir: string;
  checkpointDir?: string;
}

/** True when `p` is `root` or inside it (both absolute and normalized). */
export function isWithin(p: string, root: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function deny(requested: string, why: string, rule: string): never {
  throw errors.permissionDenied(`rootfs \`${requested}\` ${why}`, { field: 'rootfs', rule });
}

/**
 * The real path of `p`, by realpath(3) on the calling thread: every job resolves at least the default
 * rootfs, and a thread-pool round trip for it waited milliseconds on a busy node (docs/bench.md).
 */
async function real(p: string): Promise<string | undefined> {
  return local.realpath(p).catch(() => undefined);
}

/** The allowed roots as the operator wrote them (for messages) and resolved. */
async function roots(policy: NodePolicy, ctx: RootfsContext): Promise<{ shown: string[]; resolved: string[] }> {
  const given = policy.allowedRootfs;
  const resolved = (await Promise.all(given.map(real))).filter((r): r is string => r !== undefined);
  return { shown: [ctx.defaultRootfs, ...policy.allowedRootfs], resolved };
}

/** Refuses a resolved rootfs that is `/` or overlaps the state dir or the checkpoint store. */
function checkOverlap(requested: string, r: string, resolvedState: string[]): void {
  if (r === '/') deny(requested, 'is the host\'s root filesystem', 'host-root');
  for (const guarded of resolvedState) {
    if (isWithin(guarded, r)) deny(requested, `contains the node's own directory ${guarded}`, 'node-dir');
    if (isWithin(r, guarded)) deny(requested, `is inside the node's own directory ${guarded}`, 'node-dir');
  }
}

/**
 * Resolves a payload's rootfs (undefined = the node's default) to a real directory path, or throws
 * ERR_PERMISSION_DENIED naming the rule (ERR_NOT_FOUND / ERR_INVALID_ARGUMENT for an allowed path
 * that is missing or not a directory).
 */
export async function resolveRootfs(requested: string | undefined, policy: NodePolicy, ctx: RootfsContext): Promise<string> {
  const def = (await real(ctx.defaultRootfs)) ?? path.resolve(ctx.defaultRootfs);
  if (requested === undefined || requested === ctx.defaultRootfs || requested === def) return def;
  const allowed = await roots(policy, ctx);
  const list = allowed.shown.join(', ');
  if (!path.isAbsolute(requested)) deny(requested, `is not an absolute path (allowed roots: ${list})`, 'relative');
  const lexical = path.resolve(requested);
  // First the path as given: a path outside every root is refused without touching the filesystem.
  const lexicallyIn = [...allowed.resolved, ...policy.allowedRootfs.map((root) => path.resolve(root))].some((root) => isWithin(lexical, root));
  if (!lexicallyIn) deny(requested, `is outside the allowed roots (${list})`, 'allowed-roots');
  const r = await real(lexical);
  if (r === undefined) throw errors.notFound(`rootfs \`${requested}\` does not exist`, { field: 'rootfs' });
  if (r === def) return def;
  // Then the real path: a symlink may not lead out of the roots.
  if (!allowed.resolved.some((root) => isWithin(r, root))) deny(requested, `resolves to ${r}, outside the allowed roots (${list})`, 'allowed-roots');
  const guarded = await Promise.all([ctx.stateDir, ctx.checkpointDir].filter((d): d is string => !!d).map(async (d) => (await real(d)) ?? path.resolve(d)));
  checkOverlap(requested, r, guarded);
  const st = await local.stat(r).catch(() => undefined);
  if (!st?.isDirectory()) throw errors.invalidArgument(`Expected \`rootfs\` to be a directory, got \`${requested}\``, { field: 'rootfs' });
  return r;
}
