/**
 * The spawn helper (compiled to dist/workers/spawn-helper.js): a small Node process forked once by
 * each task worker thread, that runs commands and starts monitors for it (src/os/spawn-protocol.ts)
 * over the IPC channel. It imports node builtins (and the posix_spawn addon) only, so it stays small.
 * It exits when its parent goes (the channel closes), leaving the commands it started to finish on
 * their own, and killing the monitors still waiting for their start.
 */
import { spawn } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { spawnNative } from '../src/os/native-spawn.js';
import { pipeLaunch } from '../src/os/pipe-launch.js';
import type { CommandReply, CommandRequest, HelperReply, HelperRequest, LaunchRequest } from '../src/os/spawn-protocol.js';
import { OUTPUT_CAP } from '../src/os/spawn-protocol.js';

/** Collects a stream up to OUTPUT_CAP bytes. */
function collector(): { push(b: Buffer): void; text(): string } {
  const parts: Buffer[] = [];
  let size = 0;
  let dropped = 0;
  return {
    push(b) {
      const room = OUTPUT_CAP - size;
      if (room <= 0) return void (dropped += b.length);
      const kept = b.length > room ? b.subarray(0, room) : b;
      parts.push(kept);
      size += kept.length;
      dropped += b.length - kept.length;
    },
    text() {
      const s = Buffer.concat(parts).toString('utf8');
      return dropped ? `${s}\n[${dropped} bytes dropped]` : s;
    },
  };
}

/** A started command as both ways of spawning give it: its pipes, a kill, and its end (after its pipes closed). */
interface Started {
  stdin: Writable | null;
  stdout: Readable;
  stderr: Readable;
  kill(): void;
  closed: Promise<[number | null, string | null]>;
}

/** The command by posix_spawn (src/os/native-spawn.ts); null without the addon; throws when it cannot exec. */
function startByAddon(req: CommandRequest): Started | null {
  const c = spawnNative(req.file, req.args, { env: req.env ? { ...process.env, ...req.env } : process.env, ...(req.cwd ? { cwd: req.cwd } : {}), stdio: req.input === undefined ? 'nww' : 'rww' });
  if (!c) return null;
  const [stdin, stdout, stderr] = c.stdio as [Writable | null, Readable, Readable];
  const drained = (r: Readable) => new Promise<void>((resolve) => r.once('close', () => resolve()));
  let reaped = false; // after the reap the pid may be another process' already
  const exited = c.exited.then((e) => ((reaped = true), e));
  const closed = Promise.all([exited, drained(stdout), drained(stderr)]).then(([e]) => [e.exitCode, e.signal] as [number | null, string | null]);
  return { stdin, stdout, stderr, kill: () => void (reaped || process.kill(c.pid, 'SIGKILL')), closed };
}

/** The command by child_process; its 'error' (cannot exec) rejects `closed`. */
function startByNode(req: CommandRequest): Started {
  const child = spawn(req.file, req.args, {
    stdio: [req.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    ...(req.cwd ? { cwd: req.cwd } : {}),
    ...(req.env ? { env: { ...process.env, ...req.env } } : {}),
  });
  const closed = new Promise<[number | null, string | null]>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve([code, signal]));
  });
  return { stdin: child.stdin, stdout: child.stdout!, stderr: child.stderr!, kill: () => child.kill('SIGKILL'), closed };
}

/** Runs one request to its end and answers it. */
async function run(req: CommandRequest): Promise<void> {
  const out = collector();
  const err = collector();
  let timedOut = false;
  const reply = (r: Partial<CommandReply>) =>
    send({ kind: 'run', id: req.id, stdout: out.text(), stderr: err.text(), exitCode: null, signal: null, timedOut, ...r });
  let c: Started;
  try {
    c = startByAddon(req) ?? startByNode(req);
  } catch (e) {
    return reply({ error: (e as Error).message });
  }
  const timer = req.timeoutMs ? setTimeout(() => ((timedOut = true), c.kill()), req.timeoutMs) : undefined;
  c.stdout.on('data', out.push);
  c.stderr.on('data', err.push);
  if (req.input !== undefined) {
    c.stdin?.on('error', () => undefined); // a command that does not read its input
    c.stdin?.end(req.input);
  }
  try {
    const [exitCode, signal] = await c.closed;
    reply({ exitCode, signal });
  } catch (e) {
    reply({ error: (e as Error).message });
  } finally {
    clearTimeout(timer);
  }
}

/** Launches that wait for their `start`: how to release each, and its monitor's pid. */
const waiting = new Map<number, { start(): void; pid: number }>();

/** Starts a monitor (telling the thread its pid and waiting for `start` when asked), then reports how it went. */
async function launch(req: LaunchRequest): Promise<void> {
  const onSpawned = (pid: number) => {
    const started = new Promise<void>((resolve) => waiting.set(req.id, { start: resolve, pid }));
    send({ kind: 'spawned', id: req.id, pid });
    return started;
  };
  const result = await pipeLaunch(req, req.awaitStart ? onSpawned : undefined);
  waiting.delete(req.id);
  send({ kind: 'launched', id: req.id, ...result });
}

function send(m: HelperReply): void {
  // A thread (or node) that ended without letting go leaves a broken channel: the answer has no
  // reader, and the write's EPIPE, unhandled, would crash this helper with a stack on the node's
  // stderr. The callback takes the error; 'disconnect' then ends the helper as usual.
  if (process.connected) process.send?.(m, undefined, undefined, () => undefined);
}

if (!process.send) {
  console.error('workers/spawn-helper.js is forked by a task worker with an IPC channel; it does not run on its own');
  process.exit(2);
}
process.on('message', (raw) => {
  const m = raw as HelperRequest;
  if (m.kind === 'run') void run(m);
  else if (m.kind === 'launch') void launch(m);
  else waiting.get(m.id)?.start();
});
process.on('disconnect', () => {
  // A monitor still waiting for its start (one kept ready for a restore) would take the start pipe's
  // EOF as its start: it goes with the thread that would have started it. It has forked nothing yet,
  // and it is this helper's unreaped child, so its pid is still its own.
  for (const w of waiting.values()) {
    try {
      process.kill(w.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  process.exit(0);
});
