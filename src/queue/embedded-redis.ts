/**
 * The embedded Redis: a private redis-server that listens only on a unix socket under the state
 * directory (<stateDir>/redis/redis.sock, mode 700, no TCP port), with its data (append-only file)
 * in <stateDir>/redis. Used when neither --redis nor REDIS_URL is given.
 *
 * Sharing rule (so `stasis run` and `stasis serve` may start and stop in any order on one state dir):
 * - the server runs daemonized, so it never dies with the process that started it;
 * - every stasis process that uses it holds a lease file <stateDir>/redis/users/<pid>.<nonce>;
 * - on release a process removes its lease and prunes leases of dead pids; the LAST user out shuts the
 *   server down (SHUTDOWN, which fsyncs the append-only file). A crashed user leaves the server
 *   running; the next stasis process on that state dir reuses it and its exit stops it.
 * - acquire and release run under <stateDir>/redis/lock (O_EXCL file holding the pid; stale when that
 *   pid is gone), so a start and a last release never race.
 */
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { errors } from '../errors.js';
import { processRunning, readPidFile } from '../os/proc.js';

/** Longest unix socket path the kernel accepts (sun_path is 108 bytes with the NUL). */
export const MAX_SOCKET_PATH = 107;

/** Files of the embedded Redis under a state directory. */
export interface EmbeddedRedisPaths {
  dir: string;
  socket: string;
  pidfile: string;
  logfile: string;
  lock: string;
  users: string;
}

/** Options of ensureEmbeddedRedis. */
export interface EmbeddedRedisOptions {
  stateDir: string;
  /** The redis-server binary (default `redis-server` from PATH, env STASIS_REDIS_SERVER). */
  redisServer?: string;
  /** How long to wait for the server to answer PING after starting it (default 10 s). */
  startTimeoutMs?: number;
}

/** A lease on the embedded Redis; release() once when done. */
export interface EmbeddedRedis {
  /** Path of the unix socket to connect to. */
  socket: string;
  /** True when this call started the server (false: it was already running). */
  started: boolean;
  /** The server's pid (from its pidfile), or null when unknown. */
  pid: number | null;
  /** Drops this process' lease; the last user stops the server. Resolves to true when it stopped it. */
  release(): Promise<boolean>;
}

/** The layout of the embedded Redis under `stateDir`. */
export function embeddedRedisPaths(stateDir: string): EmbeddedRedisPaths {
  const dir = path.join(path.resolve(stateDir), 'redis');
  return {
    dir,
    socket: path.join(dir, 'redis.sock'),
    pidfile: path.join(dir, 'redis.pid'),
    logfile: path.join(dir, 'redis.log'),
    lock: path.join(dir, 'lock'),
    users: path.join(dir, 'users'),
  };
}

/** The redis-server argv of the embedded server (pure). */
export function redisServerArgs(p: EmbeddedRedisPaths): string[] {
  return [
    '--port', '0',
    '--unixsocket', p.socket,
    '--unixsocketperm', '700',
    '--dir', p.dir,
    '--appendonly', 'yes',
    '--save', '',
    '--pidfile', p.pidfile,
    '--logfile', p.logfile,
    '--daemonize', 'yes',
    '--maxmemory-policy', 'noeviction',
  ];
}

/** Sends PING over the unix socket; true when the server answers +PONG within `timeoutMs`. */
export function pingSocket(socket: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection({ path: socket });
    let buf = '';
    const done = (ok: boolean) => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    s.on('connect', () => s.write('*1\r\n$4\r\nPING\r\n'));
    s.on('data', (d) => {
      buf += d.toString('utf8');
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
    s.on('error', () => done(false));
  });
}

/** Sends one command (argv) over the socket and resolves to the raw first reply line. */
async function sendCommand(socket: string, argv: string[], timeoutMs = 5000): Promise<string> {
  const body = `*${argv.length}\r\n` + argv.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
  return new Promise((resolve) => {
    const s = net.createConnection({ path: socket });
    let buf = '';
    const done = (line: string) => {
      clearTimeout(timer);
      s.destroy();
      resolve(line);
    };
    const timer = setTimeout(() => done(''), timeoutMs);
    s.on('connect', () => s.write(body));
    s.on('data', (d) => {
      buf += d.toString('utf8');
      if (buf.includes('\r\n')) done(buf.split('\r\n')[0]!);
    });
    s.on('error', () => done(''));
    s.on('close', () => done(buf));
  });
}

/** Runs `fn` holding the O_EXCL lock file; a lock whose pid is dead is taken over. */
async function withLock<T>(lock: string, fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fh = await fs.open(lock, 'wx', 0o600);
      await fh.writeFile(String(process.pid));
      await fh.close();
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = await readPidFile(lock);
      if (owner === null || !(await processRunning(owner))) {
        // Stale (its owner died, or it is being written right now: then retrying is harmless).
        if (owner !== null || Date.now() - (await mtime(lock)) > 2000) await fs.rm(lock, { force: true });
      } else if (Date.now() > deadline) {
        throw errors.unavailable(`embedded Redis lock ${lock} is held by pid ${owner}`, { lock, pid: owner });
      }
      await sleep(25);
    }
  }
  try {
    return await fn();
  } finally {
    await fs.rm(lock, { force: true });
  }
}

async function mtime(file: string): Promise<number> {
  return fs.stat(file).then((s) => s.mtimeMs, () => 0);
}

/** Lease pids whose process is alive; removes the lease files of dead ones. */
async function liveUsers(usersDir: string): Promise<number[]> {
  const names = await fs.readdir(usersDir).catch(() => [] as string[]);
  const live: number[] = [];
  for (const n of names) {
    const pid = Number(n.split('.')[0]);
    if (Number.isSafeInteger(pid) && pid > 0 && (await processRunning(pid))) live.push(pid);
    else await fs.rm(path.join(usersDir, n), { force: true });
  }
  return live;
}

async function start(p: EmbeddedRedisPaths, binary: string, timeoutMs: number): Promise<void> {
  await fs.rm(p.socket, { force: true });
  try {
    await execa(binary, redisServerArgs(p), { stdin: 'ignore', cwd: p.dir });
  } catch (e) {
    const err = e as { shortMessage?: string; stderr?: string; exitCode?: number };
    throw errors.unavailable(`could not start the embedded redis-server (${binary}): ${err.stderr || err.shortMessage || String(e)}`, {
      argv: [binary, ...redisServerArgs(p)],
      exitCode: err.exitCode,
      logfile: p.logfile,
    });
  }
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await pingSocket(p.socket, 500)) return;
    await sleep(20);
  }
  const tail = (await fs.readFile(p.logfile, 'utf8').catch(() => '')).trim().split('\n').slice(-3).join(' | ');
  throw errors.unavailable(`the embedded redis-server did not answer on ${p.socket} within ${timeoutMs} ms: ${tail}`, {
    logfile: p.logfile,
  });
}

/** Stops the server: SHUTDOWN over the socket, then SIGTERM, and waits for its pid to exit. */
async function stop(p: EmbeddedRedisPaths): Promise<void> {
  const pid = await readPidFile(p.pidfile);
  await sendCommand(p.socket, ['SHUTDOWN']);
  const deadline = Date.now() + 10_000;
  let termed = false;
  while (pid !== null && (await processRunning(pid)) && Date.now() < deadline) {
    if (!termed && Date.now() > deadline - 7000) {
      process.kill(pid, 'SIGTERM');
      termed = true;
    }
    await sleep(20);
  }
  if (pid !== null && (await processRunning(pid))) process.kill(pid, 'SIGKILL');
  await fs.rm(p.socket, { force: true });
}

/**
 * Starts the embedded Redis under `stateDir` unless one already answers there, and takes a lease on
 * it for this process. Call release() on exit (see the sharing rule at the top of this file).
 */
export async function ensureEmbeddedRedis(o: EmbeddedRedisOptions): Promise<EmbeddedRedis> {
  const p = embeddedRedisPaths(o.stateDir);
  if (Buffer.byteLength(p.socket) > MAX_SOCKET_PATH) {
    throw errors.invalidArgument(
      `Expected the state directory to be short enough for a unix socket path (max ${MAX_SOCKET_PATH} bytes), got \`${p.socket}\``,
      { field: 'stateDir' },
    );
  }
  const binary = o.redisServer ?? process.env.STASIS_REDIS_SERVER ?? 'redis-server';
  await fs.mkdir(p.users, { recursive: true, mode: 0o700 });
  await fs.chmod(p.dir, 0o700);
  // One lease per call: a process may hold several (e.g. `stasis run`'s client and runner).
  const lease = path.join(p.users, `${process.pid}.${randomUUID().slice(0, 8)}`);
  let started = false;
  await withLock(p.lock, async () => {
    if (!(await pingSocket(p.socket))) {
      await start(p, binary, o.startTimeoutMs ?? 10_000);
      started = true;
    }
    await fs.writeFile(lease, `${new Date().toISOString()}\n`);
  });
  const pid = await readPidFile(p.pidfile);
  let released = false;
  return {
    socket: p.socket,
    started,
    pid,
    async release() {
      if (released) return false;
      released = true;
      return withLock(p.lock, async () => {
        await fs.rm(lease, { force: true });
        if ((await liveUsers(p.users)).length > 0) return false;
        if (!(await pingSocket(p.socket))) return false;
        await stop(p);
        return true;
      });
    },
  };
}

/** Stops the embedded Redis under `stateDir` regardless of leases (for tests and `stasis` admin use). */
export async function stopEmbeddedRedis(stateDir: string): Promise<boolean> {
  const p = embeddedRedisPaths(stateDir);
  if (!(await pingSocket(p.socket))) return false;
  await withLock(p.lock, () => stop(p));
  return true;
}
