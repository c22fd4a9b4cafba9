/**
 * Podman for the image test: the host check (skip with a reason locally, fail in CI, as
 * test/helpers/host.ts does for runc and CRIU) and a podman whose storage, run state and volumes all
 * live in one private temporary dir, removed with everything in it by `destroy()`.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { describe } from 'vitest';
import { freePort } from '../../helpers/net.js';

/** What the image test needs on the host. */
export type DeployDep = 'root' | 'podman' | 'debootstrap' | 'redis-server';

function present(dep: DeployDep): boolean {
  switch (dep) {
    case 'root':
      return process.getuid?.() === 0;
    case 'podman':
    case 'debootstrap':
    case 'redis-server':
      try {
        execFileSync(dep, ['--version'], { stdio: 'ignore' });
        return true;
      } catch {
        return false;
      }
  }
}

/** `describe` that needs podman, debootstrap and redis-server: skips without them locally, throws in CI. */
export function describeWithPodman(name: string, fn: () => void): void {
  const missing = (['root', 'podman', 'debootstrap', 'redis-server'] as const).filter((d) => !present(d));
  if (missing.length === 0) return void describe(name, fn);
  const msg = `missing host dependencies: ${missing.join(', ')} (apt-get install podman debootstrap; npm run setup)`;
  if (process.env.CI) throw new Error(`${name}: ${msg}`);
  describe.skip(`${name} [skipped: ${msg}]`, fn);
}

/** The hard limit of `resource` ('Max open files', 'Max processes') of this process. */
function hardLimit(resource: string): number | undefined {
  const line = fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(resource));
  const hard = line?.slice(resource.length).trim().split(/\s+/)[1];
  return hard && /^\d+$/.test(hard) ? Number(hard) : undefined;
}

/**
 * `--ulimit` flags every container needs here. Podman puts nofile=1048576 and nproc=4194304 into a
 * root container's spec; raising a hard limit needs CAP_SYS_RESOURCE, which root lacks in this VM,
 * so runc fails with "error setting rlimit type 7: operation not permitted". Limits at or below the
 * ones podman itself runs with (nofile: ours; nproc: podman lowers its own to 32768) always work.
 */
export function ulimitFlags(): string[] {
  const nofile = hardLimit('Max open files') ?? 1024;
  const nproc = Math.min(hardLimit('Max processes') ?? 32768, 32768);
  return ['--ulimit', `nofile=${nofile}:${nofile}`, '--ulimit', `nproc=${nproc}:${nproc}`];
}

/**
 * The cgroups the image test can leave behind, under every controller: podman's own parent
 * (`libpod_parent`, cgroupfs manager) and the tasks of the runners inside the containers, which see
 * the host's hierarchy (cgroupns host) and name them /stasis/<tag of the state dir>+… (src/runtime/ids.ts).
 */
function testCgroups(containerStateDirs: string[]): Set<string> {
  const tags = containerStateDirs.map((d) => `${createHash('sha256').update(d).digest('hex').slice(0, 8)}+`);
  const out = new Set<string>();
  const root = '/sys/fs/cgroup';
  // '' : the unified hierarchy (cgroup v2) has them at its root; v1 under each controller.
  for (const c of ['', ...fs.readdirSync(root)]) {
    const libpod = path.join(root, c, 'libpod_parent');
    if (fs.existsSync(libpod)) {
      out.add(libpod);
      for (const d of fs.readdirSync(libpod, { withFileTypes: true })) if (d.isDirectory()) out.add(path.join(libpod, d.name));
    }
    let tasks: string[] = [];
    try {
      tasks = fs.readdirSync(path.join(root, c, 'stasis')).filter((n) => tags.some((t) => n.startsWith(t)));
    } catch {
      continue;
    }
    for (const n of tasks) out.add(path.join(root, c, 'stasis', n));
  }
  return out;
}

/** Mount points at or under `dir`, deepest first. */
function mountsUnder(dir: string): string[] {
  return fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4]?.replace(/\\040/g, ' '))
    .filter((m): m is string => m !== undefined && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
}

/** What a podman command did. */
export interface PodmanResult {
  exitCode: number | undefined;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** stdout and stderr interleaved. */
  all: string;
}

/** A podman with its own storage root, run root and tmp dir, all under one temporary dir. */
export class PrivatePodman {
  private constructor(
    /** The temporary dir holding everything this podman writes. */
    readonly dir: string,
    private readonly containerStateDirs: string[],
    private readonly cgroupsBefore: Set<string>,
  ) {}

  /** Makes the private dir; `containerStateDirs` are the state dirs of the runners in its containers. */
  static async create(containerStateDirs: string[]): Promise<PrivatePodman> {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'stasis-podman-'));
    return new PrivatePodman(dir, containerStateDirs, testCgroups(containerStateDirs));
  }

  /** podman's global flags that keep it inside `dir`. */
  get globalArgs(): string[] {
    return [
      '--root', path.join(this.dir, 'storage'),
      '--runroot', path.join(this.dir, 'run'),
      '--tmpdir', path.join(this.dir, 'tmp'),
      '--events-backend', 'none',
    ];
  }

  /** `podman GLOBAL… args…` with a time limit in ms; never rejects (look at exitCode). */
  async run(args: string[], timeout = 5 * 60_000): Promise<PodmanResult> {
    const r = await execa('podman', [...this.globalArgs, ...args], { reject: false, stdin: 'ignore', all: true, timeout });
    return { exitCode: r.exitCode, timedOut: r.timedOut, stdout: r.stdout, stderr: r.stderr, all: r.all };
  }

  /** Like run(), but throws with the end of podman's output when it fails. */
  async must(args: string[], timeout?: number): Promise<PodmanResult> {
    const r = await this.run(args, timeout);
    if (r.exitCode !== 0) {
      const tail = r.all.split('\n').slice(-40).join('\n');
      throw new Error(`podman ${args.slice(0, 3).join(' ')} … failed (exit ${r.exitCode}${r.timedOut ? ', timed out' : ''}):\n${tail}`);
    }
    return r;
  }

  /**
   * Removes every container, volume and image of this podman, unmounts whatever is left under its
   * dir, deletes the dir, and removes the test's cgroups (testCgroups) that appeared meanwhile and
   * are empty now.
   */
  async destroy(): Promise<void> {
    await this.run(['rm', '--all', '--force', '--volumes', '--time', '0'], 120_000);
    await this.run(['volume', 'prune', '--force'], 60_000);
    await this.run(['rmi', '--all', '--force'], 120_000);
    for (const m of mountsUnder(this.dir)) await execa('umount', ['-l', m], { reject: false });
    await fsp.rm(this.dir, { recursive: true, force: true });
    const appeared = [...testCgroups(this.containerStateDirs)].filter((c) => !this.cgroupsBefore.has(c)).sort((a, b) => b.length - a.length);
    for (const c of appeared) await fsp.rmdir(c).catch(() => undefined);
  }
}

/** A redis-server of the test's own on a free loopback TCP port (containers on the host network reach it). */
export interface LoopbackRedis {
  url: string;
  stop(): Promise<void>;
}


/** Starts redis-server on 127.0.0.1 with no persistence; resolves once it answers PING. */
export async function startLoopbackRedis(): Promise<LoopbackRedis> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'stasis-deploy-redis-'));
  const port = await freePort();
  const child = execa('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: 'ignore',
    reject: false,
  });
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const c = net.connect(port, '127.0.0.1');
      c.once('connect', () => c.end('PING\r\n'));
      c.once('data', (d) => resolve(String(d).startsWith('+PONG')));
      c.once('error', () => resolve(false));
    });
    if (ok) break;
    await sleep(50);
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGKILL');
      await child;
      await fsp.rm(dir, { recursive: true, force: true });
    },
  };
}
