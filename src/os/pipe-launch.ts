/**
 * Starting a conmon-style monitor (runtime-facts §1.2): it blocks on a start pipe (fd 4) until one
 * byte arrives, its first process exits 0 after the fork, and the daemon writes ONE JSON line on the
 * sync pipe (fd 3) and keeps it open. Node builtins only, so that the spawn helper can run it too.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';

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

/**
 * Spawns `req.file` detached with the sync and start pipes, calls `onSpawned` with its pid while it
 * waits on the start pipe, releases it, and resolves once its first process exited and the sync line
 * is read (or EOF, or the timeout). Never rejects on the child's account.
 */
export async function pipeLaunch(req: PipeLaunchRequest, onSpawned: (pid: number) => void | Promise<void>): Promise<PipeLaunchResult> {
  const child = spawn(req.file, req.args, {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe'],
    env: { ...process.env, ...req.env, _OCI_SYNCPIPE: '3', _OCI_STARTPIPE: '4' },
    detached: true,
    cwd: req.cwd,
  });
  const [, out, err, sync, start] = child.stdio as [null, Readable, Readable, Readable, Writable];
  let output = '';
  const collect = (b: Buffer) => void (output = (output + b.toString('utf8')).slice(-8192));
  out.on('data', collect);
  err.on('data', collect);
  sync.on('error', () => undefined);
  start.on('error', () => undefined);
  const syncLine = firstLine(sync, req.syncTimeoutMs);
  const ended = { exitCode: null as number | null, signal: null as string | null, output: '', syncLine: null as string | null, syncTimedOut: false };
  try {
    const failed = await Promise.race([once(child, 'spawn').then(() => null), once(child, 'error').then(([e]) => e as Error)]);
    if (failed) return { ...ended, error: failed.message };
    if (child.pid) await onSpawned(child.pid);
    start.end(Buffer.from([0]));
    const [code, sig] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    if (code !== 0) return { ...ended, exitCode: code, signal: sig, output };
    const line = await syncLine;
    return { ...ended, exitCode: 0, output, syncLine: line === TIMED_OUT ? null : line, syncTimedOut: line === TIMED_OUT };
  } finally {
    for (const s of child.stdio) s?.destroy();
    child.unref();
  }
}

const TIMED_OUT = Symbol('timed out');

/** The first newline-terminated line of `s`, null at EOF/error, TIMED_OUT after `timeoutMs`. */
function firstLine(s: Readable, timeoutMs: number): Promise<string | null | typeof TIMED_OUT> {
  return new Promise((resolve) => {
    let buf = '';
    const done = (v: string | null | typeof TIMED_OUT) => {
      clearTimeout(t);
      s.off('data', onData).off('end', onEnd).off('close', onEnd).off('error', onEnd);
      resolve(v);
    };
    const onData = (b: Buffer) => {
      buf += b.toString('utf8');
      const nl = buf.indexOf('\n');
      if (nl >= 0) done(buf.slice(0, nl));
    };
    const onEnd = () => done(buf.trim() ? buf.trim() : null);
    const t = setTimeout(() => done(TIMED_OUT), timeoutMs);
    s.on('data', onData).on('end', onEnd).on('close', onEnd).on('error', onEnd);
  });
}
