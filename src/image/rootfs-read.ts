/**
 * Reading a file of an unpacked image without trusting it. The rootfs is untrusted content: a
 * symlink in it (`/etc/passwd -> /etc/shadow`, `/etc -> /host`) must resolve inside the rootfs, as it
 * would for the container, never against the host's root. So every component is resolved by hand
 * with lstat (absolute link targets restart at the rootfs root, `..` stops at it), the final file
 * must be a regular file (no FIFO to block on, no device node to read the host's disk through), it
 * is opened with O_NOFOLLOW, and its size is capped.
 */
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { errors } from '../errors.js';

/** Symlinks followed before giving up, like the kernel's ELOOP limit. */
export const MAX_LINK_HOPS = 40;

/** Why a path could not be read in a rootfs. */
export type InRootFailure = 'missing' | 'not-a-file' | 'too-big' | 'loop';

/** A failed in-rootfs read (plain data; the caller words the error). */
export class InRootError extends Error {
  constructor(readonly reason: InRootFailure, message: string) {
    super(message);
  }
}

/**
 * The host path of `inner` (an absolute path inside the container) under `root`, with every
 * symlink resolved relative to `root`. The result is never outside `root` and is not a symlink.
 */
export async function resolveInRoot(root: string, inner: string): Promise<string> {
  let rest = inner.split('/').filter((s) => s !== '' && s !== '.');
  let done: string[] = [];
  let hops = 0;
  while (rest.length > 0) {
    const c = rest.shift()!;
    if (c === '..') {
      done.pop();
      continue;
    }
    const host = path.join(root, ...done, c);
    const st = await fs.lstat(host).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return undefined;
      throw e;
    });
    if (!st) throw new InRootError('missing', `${inner} does not exist in the image`);
    if (st.isSymbolicLink()) {
      if (++hops > MAX_LINK_HOPS) throw new InRootError('loop', `${inner} has more than ${MAX_LINK_HOPS} symlinks to follow`);
      const target = await fs.readlink(host);
      if (target.startsWith('/')) done = [];
      rest = [...target.split('/').filter((s) => s !== '' && s !== '.'), ...rest];
      continue;
    }
    if (rest.length > 0 && !st.isDirectory()) throw new InRootError('missing', `${inner} does not exist in the image (${c} is not a directory)`);
    done.push(c);
  }
  return path.join(root, ...done);
}

/** Reads the regular file `inner` of the rootfs `root`, at most `maxBytes`; InRootError otherwise. */
export async function readFileInRoot(root: string, inner: string, maxBytes: number): Promise<Buffer> {
  const host = await resolveInRoot(root, inner);
  const pre = await fs.lstat(host);
  if (!pre.isFile()) throw new InRootError('not-a-file', `${inner} in the image is not a regular file`);
  if (pre.size > maxBytes) throw new InRootError('too-big', `${inner} in the image is ${pre.size} bytes, more than ${maxBytes}`);
  let fh;
  try {
    fh = await fs.open(host, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOOP') throw new InRootError('not-a-file', `${inner} in the image became a symlink`);
    throw e;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new InRootError('not-a-file', `${inner} in the image is not a regular file`);
    if (st.size > maxBytes) throw new InRootError('too-big', `${inner} in the image is ${st.size} bytes, more than ${maxBytes}`);
    const buf = Buffer.alloc(st.size);
    const { bytesRead } = await fh.read(buf, 0, st.size, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** Like readFileInRoot, but undefined when the file does not exist; other failures are ERR_FAILED_PRECONDITION. */
export async function readOptionalInRoot(root: string, inner: string, maxBytes: number, what: string): Promise<string | undefined> {
  try {
    return (await readFileInRoot(root, inner, maxBytes)).toString('utf8');
  } catch (e) {
    if (e instanceof InRootError && e.reason === 'missing') return undefined;
    if (e instanceof InRootError) throw errors.failedPrecondition(`cannot read ${inner} of ${what}: ${e.message}`, { file: inner });
    throw e;
  }
}
