/**
 * Shared set-up of the monitor integration tests: a private runc root and work dir under
 * os.tmpdir(), busybox bundles from a patched `runc spec`, and cleanup of every container and
 * conmon this file started.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { Runc } from '../../../src/runc/runc.js';
import { launchMonitor, type LaunchOptions, type LaunchResult } from '../../../src/monitor/launch.js';
import { testRootfs } from '../../helpers/rootfs.js';

export const RUNC = process.env.STASIS_RUNC ?? '/usr/sbin/runc';
export const CONMON = process.env.STASIS_CONMON ?? '/usr/bin/conmon';
export const CRIU = process.env.STASIS_CRIU ?? '/usr/local/bin/stasis-criu';

/** Options of a test bundle. */
export interface BundleOptions {
  args: string[];
  terminal?: boolean;
  memoryBytes?: number;
  /** Writable root (a private copy of the rootfs is made; needed by tests that write files). */
  writable?: boolean;
}

/** One test file's private environment. */
export class MonitorFixture {
  readonly runc: Runc;
  private ids: string[] = [];
  private runDirs: string[] = [];

  private constructor(readonly base: string, readonly rootfs: string) {
    this.runc = new Runc({ binary: RUNC, root: path.join(base, 'runc'), criu: CRIU });
  }

  /** Creates the private dirs (runc root, bundles, run dirs) under os.tmpdir(). */
  static async create(): Promise<MonitorFixture> {
    const base = await fs.mkdtemp(path.join(os.tmpdir(), 'stasis-monitor-it-'));
    return new MonitorFixture(base, await testRootfs());
  }

  /** A unique container id, remembered for cleanup. */
  id(prefix = 't'): string {
    const id = `${prefix}-${randomUUID().slice(0, 8)}`;
    this.ids.push(id);
    return id;
  }

  /** A fresh run dir, remembered for cleanup. */
  async runDir(name: string): Promise<string> {
    const d = path.join(this.base, 'run', name);
    await fs.mkdir(d, { recursive: true });
    this.runDirs.push(d);
    return d;
  }

  /** Writes a bundle for container `id` (config.json from `runc spec`, patched). */
  async bundle(id: string, o: BundleOptions, dir = path.join(this.base, 'bundles', id)): Promise<string> {
    await fs.mkdir(dir, { recursive: true });
    await execa(RUNC, ['spec', '--bundle', dir]);
    const spec = JSON.parse(await fs.readFile(path.join(dir, 'config.json'), 'utf8'));
    spec.process.terminal = !!o.terminal;
    spec.process.args = o.args;
    spec.process.env = ['PATH=/bin', 'TERM=xterm'];
    spec.hostname = id;
    if (o.writable) {
      await execa('cp', ['-a', this.rootfs, path.join(dir, 'rootfs')]);
      spec.root = { path: 'rootfs', readonly: false };
    } else {
      spec.root = { path: this.rootfs, readonly: true };
    }
    spec.linux.cgroupsPath = `/stasis-monitor-it/${id}`;
    if (o.memoryBytes) spec.linux.resources = { ...spec.linux.resources, memory: { limit: o.memoryBytes, swap: o.memoryBytes } };
    await fs.writeFile(path.join(dir, 'config.json'), JSON.stringify(spec, null, 2));
    return dir;
  }

  /** launchMonitor with this fixture's binaries and root filled in. */
  async launch(o: Omit<LaunchOptions, 'conmon' | 'runc' | 'runcRoot' | 'criu'>): Promise<LaunchResult> {
    if (!this.runDirs.includes(o.runDir)) this.runDirs.push(o.runDir);
    return launchMonitor({ conmon: CONMON, runc: RUNC, runcRoot: this.runc.opts.root, criu: CRIU, ...o });
  }

  /** Kills every conmon this fixture started, deletes every container, removes the private dirs. */
  async cleanup(): Promise<void> {
    for (const id of this.ids) await this.runc.delete(id, true).catch(() => undefined);
    for (const d of this.runDirs) {
      const pid = parseInt(await fs.readFile(path.join(d, 'conmon.pid'), 'utf8').catch(() => ''), 10);
      if (pid > 0) {
        const comm = await fs.readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '');
        if (comm.trim() === 'conmon') {
          try {
            process.kill(pid, 'SIGKILL');
          } catch {
            /* already gone */
          }
        }
      }
    }
    for (const id of this.ids) await this.runc.delete(id, true).catch(() => undefined);
    const controllers = await fs.readdir('/sys/fs/cgroup').catch(() => [] as string[]);
    for (const c of controllers) {
      const parent = path.join('/sys/fs/cgroup', c, 'stasis-monitor-it');
      for (const id of this.ids) await fs.rmdir(path.join(parent, id)).catch(() => undefined);
      await fs.rmdir(parent).catch(() => undefined); // fails while another fixture still uses it
    }
    await fs.rm(this.base, { recursive: true, force: true });
  }
}

/** The parent pid of `pid` from /proc/PID/stat. */
export async function ppidOf(pid: number): Promise<number> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
  return parseInt(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]!, 10);
}

/** Polls `fn` until it returns a truthy value (or throws after `ms`). */
export async function until<T>(fn: () => Promise<T | undefined | null | false>, ms = 10_000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
