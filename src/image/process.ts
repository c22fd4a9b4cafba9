/**
 * Docker's rules for the process of a container from an image config and a job's own settings.
 * Pure: user names are returned as names, to be resolved against the rootfs by resolveUser.
 *
 *   args  = (entrypointOverride ?? image Entrypoint) ++ (command ?? (entrypointOverride ? [] : image Cmd))
 *   env   = image Env, with the job's env winning key by key; PATH defaulted when neither sets it
 *   cwd   = job cwd ?? image WorkingDir ?? '/'
 *   user  = job user ?? image User ?? root
 */
import { errors } from '../errors.js';
import type { ImageConfig } from './config.js';

/** A user given as numbers, ready for the OCI spec. */
export interface NumericUser {
  uid: number;
  gid: number;
}

/** A user that names a passwd entry or group (`app`, `app:staff`, `1000` without a gid): resolve it in the rootfs. */
export interface NamedUser {
  name: string;
}

/** The job settings that override an image's defaults. */
export interface ProcessOverrides {
  /** Replaces the image's Cmd and is appended to its Entrypoint. */
  command?: string[];
  /** Replaces the image's Entrypoint (and then drops its Cmd, as `docker run --entrypoint` does). */
  entrypointOverride?: string[];
  /** Wins over the image's Env, key by key. */
  env?: Record<string, string>;
  cwd?: string;
  /** `{uid,gid}`, or a string in docker's `--user` forms. */
  user?: NumericUser | string;
}

/** The process to run. */
export interface EffectiveProcess {
  args: string[];
  /** `KEY=value` entries. */
  env: string[];
  cwd: string;
  user: NumericUser | NamedUser;
}

/** PATH when neither the image nor the job sets one (docker's default). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Applies docker's rules to an image config and a job's overrides; ERR_INVALID_ARGUMENT naming the field at fault. */
export function effectiveProcess(o: ProcessOverrides & { config: ImageConfig; image?: string }): EffectiveProcess {
  const what = o.image ? `image ${o.image}` : 'the image';
  const entrypoint = o.entrypointOverride ?? o.config.entrypoint ?? [];
  const cmd = o.command ?? (o.entrypointOverride !== undefined ? [] : (o.config.cmd ?? []));
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) {
    throw errors.invalidArgument(`${what} has no Entrypoint or Cmd, so the job must set \`command\``, { field: 'command' });
  }
  const cwd = o.cwd ?? (o.config.workingDir || '/');
  if (!cwd.startsWith('/')) {
    const field = o.cwd !== undefined ? 'cwd' : 'image';
    throw errors.invalidArgument(`Expected the working directory to be an absolute path, got \`${cwd}\` (from ${o.cwd !== undefined ? '`cwd`' : `the WorkingDir of ${what}`})`, { field });
  }
  return { args, env: mergeEnv(o.config.env, o.env ?? {}), cwd, user: userOf(o.user ?? o.config.user ?? '') };
}

/** The image's `KEY=value` list with `overrides` applied in place, new keys appended; PATH defaulted. */
export function mergeEnv(image: string[], overrides: Record<string, string>): string[] {
  const out = new Map<string, string>();
  for (const kv of image) {
    const eq = kv.indexOf('=');
    out.set(eq < 0 ? kv : kv.slice(0, eq), eq < 0 ? '' : kv.slice(eq + 1));
  }
  for (const [k, v] of Object.entries(overrides)) {
    if (k === '' || k.includes('=')) throw errors.invalidArgument(`Expected \`env\` keys to be names without \`=\`, got \`${k}\``, { field: 'env' });
    out.set(k, v);
  }
  if (!out.has('PATH')) out.set('PATH', DEFAULT_PATH);
  return [...out].map(([k, v]) => `${k}=${v}`);
}

/** `{uid,gid}` as given, `''` → root, `uid:gid` numbers → numbers, anything else → a name to resolve. */
export function userOf(u: NumericUser | string): NumericUser | NamedUser {
  if (typeof u !== 'string') return { uid: u.uid, gid: u.gid };
  if (u === '') return { uid: 0, gid: 0 };
  const m = /^(\d+):(\d+)$/.exec(u);
  if (m) return { uid: checkId(Number(m[1]), u), gid: checkId(Number(m[2]), u) };
  if (/^[^:]+(?::[^:]+)?$/.test(u)) return { name: u };
  throw errors.invalidArgument(`Expected \`user\` to be \`name\`, \`uid\`, \`name:group\` or \`uid:gid\`, got \`${u}\``, { field: 'user' });
}

function checkId(n: number, u: string): number {
  if (!Number.isSafeInteger(n) || n > 2 ** 32 - 2) throw errors.invalidArgument(`Expected \`user\` ids to be at most 4294967294, got \`${u}\``, { field: 'user' });
  return n;
}
