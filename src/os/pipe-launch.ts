/**
 * Starting a conmon-style monitor (runtime-facts §1.2): it blocks on a start pipe (fd 4) until one
 * byte arrives, its first process exits 0 after the fork, and the daemon writes ONE JSON line on the
 * sync pipe (fd 3) and keeps it open. Node builtins (and native-spawn.ts) only, so that the spawn
 * helper can run it too.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { spawnNative } from './native-spawn.js';

/** What to start, and how long to wait for its sync line. */
export interface PipeLaunchRequest {
  file: string;
  args: string[];
  /** Added to the environment (the pipes' fd numbers are set here). */
  env: Record<string, string>;
  cwd: string;
  syncTimeoutMs: number;
}

/** How the first process ended, what it printed, and the sync line (null at EOF or timeout). */
export interface PipeLaunchResult {
  exitCode: number | null;
  signal: string | null;
  /** The last 8 KiB of its stdout and stderr. */
  output: string;
  syncLine: string | null;
  syncTimedOut: boolean;
  /** Set when it could not be started at all. */
  error?: string;
}

/** The launched process as both ways of spawning give it. */
interface Launched {
  pid: number;
  out: Readable;
  err: Readable;
  sync: Readable;
  start: Writable;
  exited: Promise<[number | null, string | null]>;
  /** Lets go of the pipes (and of the child, for child_process). */
  release(): void;
}

/** The launch by posix_spawn (native/spawn.c), null without the addon; throws when it cannot exec. */
function spawnByAddon(req: PipeLaunchRequest, env: NodeJS.ProcessEnv): Launched | null {
  const c = spawnNative(req.file, req.args, { env, cwd: req.cwd, stdio: 'nwwwr', detached: true });
  if (!c) return null;
  const [, out, err, sync, start] = c.stdio as [null, Readable, Readable, Readable, Writable];
  return { pid: c.pid, out, err, sync, start, exited: c.exited.then((e) => [e.exitCode, e.signal]), release: () => c.stdio.forEach((s) => s?.destroy()) };
}

/** The launch by child_process; resolves once it is spawned, throws when it could not be. */
async function spawnByNode(req: PipeLaunchRequest, env: NodeJS.ProcessEnv): Promise<Launched> {
  const child = spawn(req.file, req.args, { stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'], env, detached: true, cwd: req.cwd });
  const [, out, err, sync, start] = child.stdio as [null, Readable, Readable, Readable, Writable];
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>;
  const release = () => {
    for (const s of child.stdio) s?.destroy();
    child.unref();
  };
  const failed = await Promise.race([once(child, 'spawn').then(() => null), once(child, 'error').then(([e]) => e as Error)]);
  if (failed || !child.pid) {
    release();
    throw failed ?? new Error(`spawn ${req.file}: no pid`);
  }
  return { pid: child.pid, out, err, sync, start, exited, release };
}

/**
 * Spawns `req.file` detached with the sync and start pipes (posix_spawn where the addon is built,
 * else child_process), calls `onSpawned` with its pid while it waits on the start pipe (none: it is
 * released at once), and resolves once its first process exited and the sync line is read (or EOF,
 * or the timeout). Never rejects on the child's account.
 */
export async function pipeLaunch(req: PipeLaunchRequest, onSpawned?: (pid: number) => void | Promise<void>): Promise<PipeLaunchResult> {
  const ended = { exitCode: null as number | null, signal: null as string | null, output: '', syncLine: null as string | null, syncTimedOut: false };
  const env = { ...process.env, ...req.env, _OCI_SYNCPIPE: '3', _OCI_STARTPIPE: '4' };
  let c: Launched;
  try {
    c = spawnByAddon(req, env) ?? (await spawnByNode(req, env));
  } catch (e) {
    return { ...ended, error: (e as Error).message };
  }
  let output = '';
  const collect = (b: Buffer) => void (output = (output + b.toString('utf8')).slice(-8192));
  c.out.on('data', collect);
  c.err.on('data', collect);
  c.sync.on('error', () => undefined);
  c.start.on('error', () => undefined);
  // Read from the spawn on, timed from the start byte: a monitor may wait for its start a long time.
  const sync = firstLine(c.sync);
  try {
    if (onSpawned) await onSpawned(c.pid);
    c.start.end(Buffer.from([0]));
    const syncLine = sync.within(req.syncTimeoutMs);
    const [code, sig] = await c.exited;
    if (code !== 0) return { ...ended, exitCode: code, signal: sig, output };
    const line = await syncLine;
    return { ...ended, exitCode: 0, output, syncLine: line === TIMED_OUT ? null : line, syncTimedOut: line === TIMED_OUT };
  } finally {
    c.release();
  }
}

const TIMED_OUT = Symbol('timed out');

/** The first newline-terminated line of `s`: null at EOF/error, TIMED_OUT when `within(ms)` passes first. */
function firstLine(s: Readable): { within(timeoutMs: number): Promise<string | null | typeof TIMED_OUT> } {
  let t: NodeJS.Timeout | undefined;
  let settled = false;
  let timedOut!: () => void;
  const line = new Promise<string | null | typeof TIMED_OUT>((resolve) => {
    let buf = '';
    const done = (v: string | null | typeof TIMED_OUT) => {
      settled = true;
      clearTimeout(t);
      s.off('data', onData).off('end', onEnd).off('close', onEnd).off('error', onEnd);
      resolve(v);
    };
    timedOut = () => done(TIMED_OUT);
    const onData = (b: Buffer) => {
      buf += b.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl >= 0) done(buf.slice(0, nl));
    };
    const onEnd = () => done(buf.trim() ? buf.trim() : null);
    s.on('data', onData).on('end', onEnd).on('close', onEnd).on('error', onEnd);
  });
  return {
    within(timeoutMs) {
      if (!settled) t ??= setTimeout(timedOut, timeoutMs);
      return line;
    },
  };
}
