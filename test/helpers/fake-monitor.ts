/**
 * A stand-in for conmon, the per-task monitor, without a process: whether a monitor is alive is kept
 * in memory (and answered through ObserveProbes), and what conmon writes is written the way it does
 * into a temp dir: RUNDIR/exit ("<status>", its mtime the exit time), RUNDIR/oom, the k8s-file log,
 * and BUNDLE/ctl (a plain file here, so a test can read what a resize wrote to conmon's FIFO).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { BUNDLE_FILES, RUN_FILES } from '../../src/monitor/conmon-args.js';
import { readExit } from '../../src/monitor/exit-file.js';
import type { RuncClient } from '../../src/runc/types.js';
import type { ObserveProbes } from '../../src/runtime/task-facts.js';
import type { FakeRunc } from './fake-runc.js';

/** One line of a k8s-file log. */
export interface LogLine {
  stream: 'stdout' | 'stderr';
  data: string;
  partial?: boolean;
  /** RFC 3339 time of the record (default: now). */
  time?: string;
}

/** Appends records to a k8s-file log the way conmon writes them. */
export async function appendLog(file: string, lines: LogLine[]): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const text = lines.map((l) => `${l.time ?? new Date().toISOString()} ${l.stream} ${l.partial ? 'P' : 'F'} ${l.data}\n`).join('');
  await fs.appendFile(file, text);
}

/** The fake monitors of one test. */
export class FakeMonitor {
  private readonly alive = new Set<string>();

  /** A monitor starts watching the process of `runDir`. */
  async launch(runDir: string): Promise<void> {
    await fs.mkdir(runDir, { recursive: true });
    this.alive.add(runDir);
  }

  /** True while the monitor of `runDir` runs. */
  isAlive(runDir: string): boolean {
    return this.alive.has(runDir);
  }

  /** The monitor dies without writing an exit (its exit code is lost). */
  die(runDir: string): void {
    this.alive.delete(runDir);
  }

  /** The monitor records the exit of its process and exits, as conmon does. */
  async recordExit(runDir: string, status: number, o: { oom?: boolean; at?: Date } = {}): Promise<void> {
    await fs.mkdir(runDir, { recursive: true });
    if (o.oom) await fs.writeFile(path.join(runDir, RUN_FILES.oom), '');
    const file = path.join(runDir, RUN_FILES.exit);
    await fs.writeFile(`${file}.tmp`, String(status));
    if (o.at) await fs.utimes(`${file}.tmp`, o.at, o.at);
    await fs.rename(`${file}.tmp`, file);
    this.alive.delete(runDir);
  }

  /** Records the exit of container `containerId` in `runDir` whenever the fake runc ends its init. */
  follow(runc: FakeRunc, containerId: string, runDir: string): void {
    runc.onExit((id, status) => (id === containerId ? this.recordExit(runDir, status) : undefined));
  }

  /** The probes a task observation makes: runc's state, this monitor's liveness, the real exit-file reader. */
  probes(runc: RuncClient): ObserveProbes {
    return { runcState: (id) => runc.state(id), monitorAlive: async (dir) => this.alive.has(dir), readExit };
  }

  /** Creates conmon's control file in `bundle` (a plain file standing in for the FIFO). */
  async openCtl(bundle: string): Promise<void> {
    await fs.mkdir(bundle, { recursive: true });
    await fs.writeFile(path.join(bundle, BUNDLE_FILES.ctl), '');
  }

  /** What was written to conmon's control file of `bundle`. */
  ctl(bundle: string): Promise<string> {
    return fs.readFile(path.join(bundle, BUNDLE_FILES.ctl), 'utf8');
  }
}
