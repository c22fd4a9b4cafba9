/**
 * The spawn helper (compiled to dist/workers/spawn-helper.js): a small Node process forked once by
 * each task worker thread, that runs commands and starts monitors for it (src/os/spawn-protocol.ts)
 * over the IPC channel. It imports node builtins only, so it stays small and its forks stay cheap. It exits
 * when its parent goes (the channel closes), leaving the commands it started to finish on their own.
 */
import { spawn } from 'node:child_process';
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

/** Runs one request to its end and answers it. */
function run(req: CommandRequest): void {
  const out = collector();
  const err = collector();
  let timedOut = false;
  let failed: string | undefined;
  const child = spawn(req.file, req.args, {
    stdio: [req.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    ...(req.cwd ? { cwd: req.cwd } : {}),
  });
  const timer = req.timeoutMs ? setTimeout(() => ((timedOut = true), child.kill('SIGKILL')), req.timeoutMs) : undefined;
  child.stdout?.on('data', out.push);
  child.stderr?.on('data', err.push);
  if (req.input !== undefined) {
    child.stdin?.on('error', () => undefined); // a command that does not read its input
    child.stdin?.end(req.input);
  }
  child.on('error', (e) => void (failed = e.message));
  child.on('close', (code, signal) => {
    clearTimeout(timer);
    const reply: CommandReply = { kind: 'run', id: req.id, stdout: out.text(), stderr: err.text(), exitCode: failed ? null : code, signal, timedOut, ...(failed ? { error: failed } : {}) };
    send(reply);
  });
}

/** Launches that wait for their `start`. */
const waiting = new Map<number, () => void>();

/** Starts a monitor, tells the thread its pid, waits for `start`, then reports how it went. */
async function launch(req: LaunchRequest): Promise<void> {
  const result = await pipeLaunch(req, (pid) => {
    const started = new Promise<void>((resolve) => waiting.set(req.id, resolve));
    send({ kind: 'spawned', id: req.id, pid });
    return started;
  });
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
  if (m.kind === 'run') run(m);
  else if (m.kind === 'launch') void launch(m);
  else waiting.get(m.id)?.();
});
process.on('disconnect', () => process.exit(0));
