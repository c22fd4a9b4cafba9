/**
 * The calls of `node:fs/promises` that the node makes on its own small local files (the state dir,
 * runc's root, conmon's run dirs, /proc, /sys/fs/cgroup), done synchronously behind the same
 * promise-returning signatures. One such call is one syscall on the calling thread; through
 * `fs/promises` it is a thread-pool round trip with its wake-ups, ~10x the CPU (a small readFile:
 * 227 against 19 µs here), and a job makes ~160 of them (docs/bench.md). Only for small files and
 * directory entries (records, markers, pid and state files, cgroup and /proc entries); never for
 * files a job can grow (logs), CRIU images, or FIFOs (an open may block).
 */
import fs from 'node:fs';
import type fsp from 'node:fs/promises';

/** The subset of `fs/promises` offered here (same signatures). */
type Api = Pick<
  typeof fsp,
  'access' | 'chmod' | 'chown' | 'lstat' | 'mkdir' | 'readFile' | 'readdir' | 'rename' | 'rm' | 'rmdir' | 'stat' | 'symlink' | 'utimes' | 'writeFile'
>;

/** A file opened by `open` (the parts of a FileHandle the node uses). */
export interface LocalFile {
  writeFile(data: string | Uint8Array): Promise<void>;
  chown(uid: number, gid: number): Promise<void>;
  close(): Promise<void>;
}

/** Runs `f` now and hands its result (or its error) over as a promise. */
function settled<T>(f: () => T): Promise<T> {
  try {
    return Promise.resolve(f());
  } catch (e) {
    return Promise.reject(e as Error);
  }
}

/** Wraps a synchronous fs call in the promise shape of its `fs/promises` twin. */
function promised<K extends keyof Api>(sync: (...a: never[]) => unknown): Api[K] {
  return ((...a: never[]) => settled(() => sync(...a))) as unknown as Api[K];
}

/** Opens `file` (flags and mode as fs.open); the handle's calls are synchronous too. */
function open(file: string, flags: string, mode?: number): Promise<LocalFile> {
  return settled(() => {
    const fd = fs.openSync(file, flags, mode);
    return {
      writeFile: (data: string | Uint8Array) => settled(() => void fs.writeFileSync(fd, data)),
      chown: (uid: number, gid: number) => settled(() => fs.fchownSync(fd, uid, gid)),
      close: () => settled(() => fs.closeSync(fd)),
    };
  });
}

/** `fs/promises`-shaped calls for the node's own small local files, done synchronously. */
const localFs: Api & { open: typeof open; realpath(p: string): Promise<string> } = {
  access: promised<'access'>(fs.accessSync),
  chmod: promised<'chmod'>(fs.chmodSync),
  chown: promised<'chown'>(fs.chownSync),
  lstat: promised<'lstat'>(fs.lstatSync),
  mkdir: promised<'mkdir'>(fs.mkdirSync),
  readFile: promised<'readFile'>(fs.readFileSync),
  readdir: promised<'readdir'>(fs.readdirSync),
  rename: promised<'rename'>(fs.renameSync),
  rm: promised<'rm'>(fs.rmSync),
  rmdir: promised<'rmdir'>(fs.rmdirSync),
  stat: promised<'stat'>(fs.statSync),
  symlink: promised<'symlink'>(fs.symlinkSync),
  utimes: promised<'utimes'>(fs.utimesSync),
  writeFile: promised<'writeFile'>(fs.writeFileSync),
  // The native realpath(3), as fs/promises uses, not the JS walk of fs.realpathSync.
  realpath: (p: string) => settled(() => fs.realpathSync.native(p)),
  open,
};

export default localFs;
