/**
 * Spawning without forking the Node process: posix_spawn through native/spawn.c (shares the parent's
 * memory until the exec; Node's child_process forks, 5-8 ms of wall time on this VM, docs/bench.md).
 * Node builtins only, so that the spawn helper can use it. Null when the addon is not built or
 * STASIS_NATIVE_SPAWN=0: the caller spawns with child_process then.
 */
import net from 'node:net';
import os from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { loadAddon } from './native-addon.js';

interface SpawnAddon {
  spawn(file: string, argv: string[], env: string[], cwd: string | null, stdio: string, setsid: boolean): { pid: number; fds: number[] };
  /** Reaps `pid` on a thread of its own; returns a socket fd that then carries the outcome (native/spawn.c). */
  wait(pid: number): number;
}

/** One letter per child fd from 0: 'n' /dev/null, 'r' a pipe the child reads, 'w' a pipe it writes. */
export type NativeStdio = string;

/** How a natively spawned child ended (both null when it could not be reaped). */
export interface NativeExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
}

/** A child started by posix_spawn: the parent's ends of its pipes as streams, and its end. */
export interface NativeChild {
  pid: number;
  /** Per child fd: a Readable for 'w', a Writable for 'r', null for 'n'. */
  stdio: (Readable | Writable | null)[];
  exited: Promise<NativeExit>;
}

/** What to spawn. */
export interface NativeSpawnOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  stdio: NativeStdio;
  /** A new session (and process group), as child_process' `detached`. */
  detached?: boolean;
}

const LITTLE_ENDIAN = os.endianness() === 'LE';
const SIGNAL_NAMES = new Map(Object.entries(os.constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

/** The addon, unless it is not built or turned off. */
function addon(env: NodeJS.ProcessEnv = process.env): SpawnAddon | null {
  return env.STASIS_NATIVE_SPAWN === '0' ? null : loadAddon<SpawnAddon>('stasis_spawn');
}

/** Whether spawnNative works here: the addon 'built', turned 'off' (STASIS_NATIVE_SPAWN=0) or 'missing'. */
export function nativeSpawnState(env: NodeJS.ProcessEnv = process.env): 'built' | 'off' | 'missing' {
  return env.STASIS_NATIVE_SPAWN === '0' ? 'off' : addon(env) ? 'built' : 'missing';
}

/**
 * Spawns `file` (PATH-searched when it has no slash) with `args`; null when the addon is not there.
 * Throws an errno-shaped Error (code ENOENT, EACCES, …) when it cannot be executed.
 */
export function spawnNative(file: string, args: readonly string[], o: NativeSpawnOptions): NativeChild | null {
  const a = addon();
  if (!a) return null;
  const env = Object.entries(o.env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
  let spawned: { pid: number; fds: number[] };
  try {
    spawned = a.spawn(file, [file, ...args], env, o.cwd ?? null, o.stdio, o.detached ?? false);
  } catch (e) {
    // Worded as child_process words it (`spawn sh ENOENT`), the addon's text after it.
    const code = (e as NodeJS.ErrnoException).code;
    throw Object.assign(new Error(`spawn ${file} ${code}: ${(e as Error).message}`), { code, errno: (e as NodeJS.ErrnoException).errno, syscall: 'spawn', path: file });
  }
  const { pid, fds } = spawned;
  const stdio = fds.map((fd, i) => {
    if (fd < 0) return null;
    const reads = o.stdio[i] === 'w'; // the child writes: this end reads
    return new net.Socket({ fd, readable: reads, writable: !reads });
  });
  return { pid, stdio, exited: reaped(a.wait(pid)) };
}

/** How the child ended, from the reaper's socket: three native int32 (code, signal, errno; -1 for none). */
function reaped(fd: number): Promise<NativeExit> {
  return new Promise((resolve) => {
    const socket = new net.Socket({ fd, readable: true, writable: false });
    const parts: Buffer[] = [];
    socket.on('data', (b: Buffer) => parts.push(b));
    // A read error ends it as a close does: the outcome is whatever arrived (none: both null).
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const b = Buffer.concat(parts);
      if (b.length < 12) return resolve({ exitCode: null, signal: null });
      const int = (at: number) => (LITTLE_ENDIAN ? b.readInt32LE(at) : b.readInt32BE(at));
      const [code, sig, err] = [int(0), int(4), int(8)];
      resolve(err !== 0 ? { exitCode: null, signal: null } : { exitCode: code < 0 ? null : code, signal: sig < 0 ? null : (SIGNAL_NAMES.get(sig) ?? null) });
    });
  });
}
