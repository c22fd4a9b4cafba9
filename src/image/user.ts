/**
 * Resolving a user given by name (`app`, `app:staff`, `1000`, `app:50`) to numeric ids with the
 * image's own /etc/passwd and /etc/group, as runc does: a name must exist; a numeric uid without a
 * group takes its passwd entry's gid (0 when it has none); supplementary groups are those that list
 * the user when no group was given. The files are read with readOptionalInRoot (never the host's).
 */
import { errors } from '../errors.js';
import type { NamedUser, NumericUser } from './process.js';
import { readOptionalInRoot } from './rootfs-read.js';

/** Largest /etc/passwd or /etc/group read from an image. */
export const MAX_ACCOUNT_FILE_BYTES = 1024 * 1024;

/** One /etc/passwd entry. */
export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** One /etc/group entry. */
export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/** A user resolved to numbers. */
export interface ResolvedUser extends NumericUser {
  additionalGids: number[];
  /** The passwd entry's home directory, when there is one. */
  home?: string;
}

const ID = /^\d{1,10}$/;

/** Parses /etc/passwd text, skipping comments and malformed lines. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (line.startsWith('#') || f.length < 4 || !f[0] || !ID.test(f[2]!) || !ID.test(f[3]!)) continue;
    out.push({ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '' });
  }
  return out;
}

/** Parses /etc/group text, skipping comments and malformed lines. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (line.startsWith('#') || f.length < 3 || !f[0] || !ID.test(f[2]!)) continue;
    out.push({ name: f[0], gid: Number(f[2]), members: (f[3] ?? '').split(',').map((s) => s.trim()).filter(Boolean) });
  }
  return out;
}

/** Resolves `spec` against account entries (pure); ERR_INVALID_ARGUMENT naming `user` when a name is unknown. */
export function resolveUserIn(spec: string, passwd: PasswdEntry[], groups: GroupEntry[], what = 'the image'): ResolvedUser {
  const [u, g] = spec.split(':', 2) as [string, string | undefined];
  const entry = ID.test(u) ? passwd.find((p) => p.uid === Number(u)) : passwd.find((p) => p.name === u);
  if (!entry && !ID.test(u)) {
    throw errors.invalidArgument(`user \`${u}\` is not in /etc/passwd of ${what}`, { field: 'user' });
  }
  const uid = entry?.uid ?? Number(u);
  let gid = entry?.gid ?? 0;
  let additionalGids: number[] = [];
  if (g !== undefined) {
    if (ID.test(g)) gid = Number(g);
    else {
      const grp = groups.find((x) => x.name === g);
      if (!grp) throw errors.invalidArgument(`group \`${g}\` is not in /etc/group of ${what}`, { field: 'user' });
      gid = grp.gid;
    }
  } else if (entry) {
    additionalGids = [...new Set(groups.filter((x) => x.members.includes(entry.name) && x.gid !== gid).map((x) => x.gid))];
  }
  if (uid > 2 ** 32 - 2 || gid > 2 ** 32 - 2) throw errors.invalidArgument(`Expected \`user\` ids to be at most 4294967294, got \`${spec}\``, { field: 'user' });
  return { uid, gid, additionalGids, ...(entry?.home ? { home: entry.home } : {}) };
}

/** Resolves a user of effectiveProcess against the unpacked rootfs `rootfs`. */
export async function resolveUser(rootfs: string, user: NumericUser | NamedUser, what = 'the image'): Promise<ResolvedUser> {
  if (!('name' in user)) return { uid: user.uid, gid: user.gid, additionalGids: [] };
  const passwd = await readOptionalInRoot(rootfs, '/etc/passwd', MAX_ACCOUNT_FILE_BYTES, what);
  const group = await readOptionalInRoot(rootfs, '/etc/group', MAX_ACCOUNT_FILE_BYTES, what);
  return resolveUserIn(user.name, parsePasswd(passwd ?? ''), parseGroup(group ?? ''), what);
}
