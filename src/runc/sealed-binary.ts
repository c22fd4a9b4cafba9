/**
 * The runc that conmon runs: a sealed in-memory copy of the configured binary (native/sealed-copy.c),
 * reached through a symlink `<stateDir>/run/sealed/<pid>/runc` → `/proc/<pid>/fd/<n>` (the symlink's
 * name keeps the process called `runc`). At every `runc init`, runc 1.1 re-executes itself from a
 * copy the container cannot write (Debian's 1.1.5: a read-only bind mount of its binary, made and
 * detached again; upstream: a sealed memfd) unless it already runs from a sealed memfd. With the
 * copy made once per node process, a container costs one exec, two mounts and an unmount less:
 * ~5 ms of CPU here (docs/bench.md). The protection is the same: a sealed memfd cannot be written,
 * by a container or anyone. Without the addon, with
 * STASIS_SEALED_RUNC=0, for a binary that is not ELF (a wrapper script) or on any failure, conmon
 * runs the configured path as before. Only the node's own paths and pid go into it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runDirOf } from '../config/load.js';
import { loadAddon } from '../os/native-addon.js';

/** What native/sealed-copy.c exports. */
interface SealedAddon {
  sealedCopy(file: string): number;
}

/** Per thread: stale pid directories are swept once; whether a path is ELF is read once. */
let swept = false;
const elf = new Map<string, boolean>();

/** Whether conmon gets a sealed copy here: the addon 'built', turned 'off' (STASIS_SEALED_RUNC=0) or 'missing'. */
export function sealedRuncState(env: NodeJS.ProcessEnv = process.env): 'built' | 'off' | 'missing' {
  if (env.STASIS_SEALED_RUNC === '0') return 'off';
  return loadAddon<SealedAddon>('stasis_sealed') ? 'built' : 'missing';
}

/** The directory of the symlinks under a state dir. */
export function sealedDir(stateDir: string): string {
  return path.join(runDirOf(stateDir), 'sealed');
}

/**
 * The path to give conmon for `binary`: the symlink to this process' sealed copy, made or checked
 * on each call (an upgraded binary gets a new copy), or `binary` itself when there is none.
 */
export function sealedBinary(binary: string, stateDir: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.STASIS_SEALED_RUNC === '0') return binary;
  const addon = loadAddon<SealedAddon>('stasis_sealed');
  if (!addon || !(elf.get(binary) ?? elfOnce(binary))) return binary;
  try {
    const target = `/proc/${process.pid}/fd/${addon.sealedCopy(binary)}`;
    const link = path.join(sealedDir(stateDir), String(process.pid), path.basename(binary));
    if (readlink(link) !== target) replaceLink(link, target);
    if (!swept) sweepStale(sealedDir(stateDir));
    return link;
  } catch {
    return binary; // no copy or no link: runc protects itself per container, as it always did
  }
}

/** Whether `file` starts like an ELF executable (a wrapper script is run as it is), remembered. */
function elfOnce(file: string): boolean {
  const v = isElf(file);
  elf.set(file, v);
  return v;
}

function isElf(file: string): boolean {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const head = Buffer.alloc(4);
    return fs.readSync(fd, head, 0, 4, 0) === 4 && head.equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46]));
  } catch {
    return false;
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

function readlink(link: string): string | undefined {
  try {
    return fs.readlinkSync(link);
  } catch {
    return undefined;
  }
}

/** Points `link` at `target` atomically (another thread of this process may do the same). */
function replaceLink(link: string, target: string): void {
  fs.mkdirSync(path.dirname(link), { recursive: true, mode: 0o700 });
  const tmp = `${link}.${process.pid}-${Math.random().toString(36).slice(2)}`;
  fs.symlinkSync(target, tmp);
  fs.renameSync(tmp, link);
}

/** Removes the link directories of processes that are gone (a crashed or stopped node's), once per thread. */
function sweepStale(dir: string): void {
  swept = true;
  try {
    for (const name of fs.readdirSync(dir)) {
      if (!/^\d+$/.test(name) || Number(name) === process.pid || alive(Number(name))) continue;
      fs.rmSync(path.join(dir, name), { recursive: true, force: true });
    }
  } catch {
    // Leftover links are only clutter (each points into a dead process' /proc): the next node sweeps.
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
