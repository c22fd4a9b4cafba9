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
import { StasisError } from '../errors.js';
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
export async function sendStdin(bundle: string, data: Uint8Array | string, close: boolean): Promise<void> {
  const c = await connection(bundle);
  await c.write(data);
  if (close) await closeStdin(bundle);
}

/** Closes the process' stdin: ends this process' connection, or connects and leaves at once. */
export async function closeStdin(bundle: string): Promise<void> {
  const c = await connection(bundle);
  open.delete(bundle);
  await c.close();
}
