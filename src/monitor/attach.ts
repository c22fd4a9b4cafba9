/**
 * stdin (and terminal input) through conmon's attach socket BUNDLE/attach, a SOCK_SEQPACKET socket
 * that Node's `net` cannot connect to; node-unix-socket's SeqpacketSocket (a prebuilt N-API addon)
 * can. Bytes written go to the container's stdin (conmon -i) or pty (conmon -t). Each packet
 * conmon sends back is `<stream id: 2 stdout, 3 stderr><data>`.
 *
 * Contract with conmon (conn_sock.c): when an attach client shuts down its side, conmon closes the
 * container's stdin (conmon -i, no --leave-stdin-open), and the process reads EOF. So a connection
 * that must keep stdin open has to stay open: sendStdin(…, false) keeps one connection per bundle
 * in this process, and closeStdin ends it. conmon writes output to attached clients with blocking
 * writes, so a connection always drains what it receives.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { SeqpacketSocket } from 'node-unix-socket';
import { hasCode, StasisError } from '../errors.js';
import { BUNDLE_FILES } from './conmon-args.js';

/** Largest packet we send; conmon reads attach packets into a buffer of CONN_SOCK_BUF_SIZE. */
const PACKET = 4096;
/** sun_path is 108 bytes including the NUL. */
const MAX_SUN_PATH = 107;

/** One client connection to a conmon attach socket. */
export class AttachConnection extends EventEmitter {
  private error: Error | undefined;
  private closed = false;

  private constructor(private readonly sock: SeqpacketSocket, readonly socketPath: string) {
    super();
    sock.on('data', (b: Buffer) => {
      if (b.length === 0) return;
      const stream = b[0] === 3 ? 'stderr' : 'stdout';
      this.emit('output', stream, b.subarray(1));
    });
    sock.on('error', (e: Error) => {
      this.error = e;
      this.emit('error-event', e);
    });
    sock.on('close', () => {
      this.closed = true;
      this.emit('close');
    });
  }

  /** Connects to BUNDLE/attach (long bundle paths go through /proc/self/fd). */
  static async connect(bundle: string): Promise<AttachConnection> {
    const file = path.join(bundle, BUNDLE_FILES.attach);
    let dirFd: number | undefined;
    let target = file;
    if (Buffer.byteLength(file) > MAX_SUN_PATH) {
      dirFd = fs.openSync(bundle, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
      target = `/proc/self/fd/${dirFd}/${BUNDLE_FILES.attach}`;
    }
    try {
      const sock = new SeqpacketSocket();
      await new Promise<void>((resolve, reject) => {
        sock.once('error', reject);
        try {
          sock.connect(target, () => {
            sock.off('error', reject);
            resolve();
          });
        } catch (e) {
          reject(e);
        }
      });
      return new AttachConnection(sock, file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? '';
      const msg = (e as Error).message ?? String(e);
      const gone = /ENOENT|ECONNREFUSED|No such file|Connection refused/i.test(`${code} ${msg}`);
      throw new StasisError(
        gone ? 'ERR_FAILED_PRECONDITION' : 'ERR_RUNTIME',
        `cannot attach to ${file}: ${msg}${gone ? ' (is the process running with stdin or a terminal?)' : ''}`,
        { path: file },
      );
    } finally {
      if (dirFd !== undefined) fs.closeSync(dirFd);
    }
  }

  /** Calls `fn` for every output packet conmon relays while attached. */
  onOutput(fn: (stream: 'stdout' | 'stderr', data: Buffer) => void): this {
    return this.on('output', fn);
  }

  /** Sends bytes to the process' stdin/pty, in packets conmon can take whole. */
  async write(data: Uint8Array | string): Promise<void> {
    const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    for (let off = 0; off < buf.length; off += PACKET) {
      this.check();
      const chunk = buf.subarray(off, Math.min(off + PACKET, buf.length));
      await new Promise<void>((resolve, reject) => {
        const onErr = (e: Error) => reject(this.wrap(e));
        this.once('error-event', onErr);
        try {
          this.sock.write(chunk, 0, chunk.length, () => {
            this.off('error-event', onErr);
            resolve();
          });
        } catch (e) {
          this.off('error-event', onErr);
          reject(this.wrap(e as Error));
        }
      });
    }
  }

  /** Shuts down our side (conmon then closes the process' stdin) and closes the socket. */
  async close(): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 1000);
      try {
        this.sock.end(() => {
          clearTimeout(t);
          resolve();
        });
      } catch {
        clearTimeout(t);
        resolve();
      }
    });
    this.sock.destroy();
    this.closed = true;
  }

  /** Lets the process exit while this connection is open. */
  unref(): this {
    this.sock.unref();
    return this;
  }

  private check(): void {
    if (this.error) throw this.wrap(this.error);
    if (this.closed) throw new StasisError('ERR_FAILED_PRECONDITION', `attach connection to ${this.socketPath} is closed`);
  }

  private wrap(e: Error): StasisError {
    return new StasisError('ERR_RUNTIME', `writing to ${this.socketPath}: ${e.message}`, { path: this.socketPath });
  }
}

/** Connections kept open by sendStdin(…, false), one per bundle, so stdin stays open between writes. */
const open = new Map<string, Promise<AttachConnection>>();

function connection(bundle: string): Promise<AttachConnection> {
  let c = open.get(bundle);
  if (!c) {
    c = AttachConnection.connect(bundle).then((a) => {
      a.unref();
      a.once('close', () => open.delete(bundle));
      return a;
    });
    c.catch(() => open.delete(bundle));
    open.set(bundle, c);
  }
  return c;
}

/**
 * Writes `data` to the stdin of the process monitored from `bundle`; with `close` its stdin is
 * closed afterwards (EOF). Without `close` the connection stays open in this process, since
 * conmon closes stdin as soon as the last writer leaves; the process exiting closes it too.
 */
export async function sendStdin(bundle: string, data: Uint8Array | string, close: boolean, o: { runDir?: string } = {}): Promise<void> {
  const c = await connection(bundle);
  await c.write(data);
  if (close) await closeStdin(bundle, o);
}

/**
 * Closes the process' stdin: ends this process' connection, or connects and leaves at once. With
 * `runDir` (the monitor's run dir: conmon.pid, pidfile) it also makes sure the EOF arrived: conmon
 * 2.1.6 now and then misses the end of an attach connection that writes and leaves at once, and keeps
 * the stdin pipe open forever (seen: 3 of 12 runs under load). Then, once a reader of the pipe is
 * blocked on it (so the pipe and conmon's buffer are empty and nothing can be cut off), one more
 * connect-and-leave makes conmon close it.
 */
export async function closeStdin(bundle: string, o: { runDir?: string } = {}): Promise<void> {
  const reader = o.runDir ? await stdinPipe(o.runDir) : null;
  const c = await connection(bundle);
  open.delete(bundle);
  // Leave only once what was written has been read (a reader blocks on the empty pipe) or the
  // process is gone, so conmon never sees our data and our end in one go.
  if (reader) await until(async () => !(await alive(reader.pid)) || (await blockedReading(reader.pid, reader.pipe)), 1000);
  await c.close();
  if (reader) await ensureStdinClosed(bundle, reader);
}

/** The monitor's pid, the process' pid and its stdin pipe (`pipe:[ino]`), when stdin is a pipe. */
async function stdinPipe(runDir: string): Promise<{ conmon: number; pid: number; pipe: string } | null> {
  const conmon = await readInt(path.join(runDir, 'conmon.pid'));
  const pid = await readInt(path.join(runDir, 'pidfile'));
  if (!conmon || !pid) return null;
  const pipe = await fs.promises.readlink(`/proc/${pid}/fd/0`).catch(() => '');
  return pipe.startsWith('pipe:') ? { conmon, pid, pipe } : null;
}

async function ensureStdinClosed(bundle: string, r: { conmon: number; pid: number; pipe: string }): Promise<void> {
  for (let i = 0; i < 40; i++) {
    await new Promise((res) => setTimeout(res, 50));
    if (!(await holds(r.conmon, r.pipe))) return;
    if (i >= 10 && (await blockedReading(r.pid, r.pipe))) {
      const nudge = await AttachConnection.connect(bundle).catch(() => null);
      await nudge?.close();
    }
  }
}

async function until(cond: () => Promise<boolean>, ms: number): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; ) {
    if (await cond()) return;
    await new Promise((res) => setTimeout(res, 10));
  }
}

async function alive(pid: number): Promise<boolean> {
  return fs.promises.access(`/proc/${pid}`).then(() => true, () => false);
}

async function readInt(file: string): Promise<number> {
  const n = parseInt(await fs.promises.readFile(file, 'utf8').catch(() => ''), 10);
  return Number.isInteger(n) && n > 0 ? n : 0;
}

/** Does process `pid` have an fd on `target` (a `pipe:[ino]` link)? */
async function holds(pid: number, target: string): Promise<boolean> {
  const fds = await fs.promises.readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
  for (const fd of fds) {
    if ((await fs.promises.readlink(`/proc/${pid}/fd/${fd}`).catch(() => '')) === target) return true;
  }
  return false;
}

/** Is `pid` or one of its descendants blocked reading `pipe` on its stdin (the pipe is empty)? */
async function blockedReading(pid: number, pipe: string, depth = 0): Promise<boolean> {
  const fd0 = await fs.promises.readlink(`/proc/${pid}/fd/0`).catch(() => '');
  const wchan = await fs.promises.readFile(`/proc/${pid}/wchan`, 'utf8').catch(() => '');
  if (fd0 === pipe && /pipe_read$/.test(wchan.trim())) return true; // 'pipe_read', 'anon_pipe_read' (6.x)
  if (depth > 8) return false;
  const kids = (await fs.promises.readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '')).trim().split(/\s+/).filter(Boolean);
  for (const k of kids) if (await blockedReading(Number(k), pipe, depth + 1)) return true;
  return false;
}

/**
 * Writes to a process' stdin through conmon's attach socket. monitor/attach keeps one connection per
 * bundle in this process; after a restore into the same id that cached connection belongs to the
 * dead monitor (broken pipe). The failed write drops it, so one retry gets a fresh connection.
 */
export async function writeAttach(bundle: string, data: string | Uint8Array): Promise<void> {
  try {
    await sendStdin(bundle, data, false);
  } catch (e) {
    if (!hasCode(e, 'ERR_RUNTIME')) throw e;
    // Not closeStdin(): with the broken entry already gone it would connect to the NEW monitor
    // and, by leaving at once, close the restored process' stdin.
    await sendStdin(bundle, data, false);
  }
}
