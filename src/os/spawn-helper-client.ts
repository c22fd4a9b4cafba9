/**
 * The worker thread's side of the spawn helper (workers/spawn-helper.ts): forks it on first use,
 * matches replies to requests by id, and forks a new one when it died. A request in flight when its
 * helper dies ends with that as its error.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { PipeLaunchRequest, PipeLaunchResult } from './pipe-launch.js';
import type { CommandReply, CommandRequest, HelperReply, HelperRequest } from './spawn-protocol.js';

type Pending = { onReply(r: HelperReply): void; onLost(error: string): void };
/** A request before its id is given (each kind of the union on its own). */
type Unnumbered<T> = T extends unknown ? Omit<T, 'id'> : never;

/** One spawn helper process and the requests it has not answered yet. */
export class SpawnHelperClient {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Pending launches still waiting for their start (standby ones): they do not hold the thread open. */
  private readonly standby = new Set<number>();

  constructor(private readonly entry: string) {}

  /** Runs a command through the helper and resolves with how it ended. */
  run(req: Omit<CommandRequest, 'id' | 'kind'>): Promise<CommandReply> {
    return new Promise((resolve) => {
      const id = this.request(
        { kind: 'run', ...req },
        {
          onReply: (r) => r.kind === 'run' && this.done(id) && resolve(r),
          onLost: (error) => resolve({ kind: 'run', id, stdout: '', stderr: '', exitCode: null, signal: null, timedOut: false, error }),
        },
      );
    });
  }

  /**
   * pipeLaunch (src/os/pipe-launch.ts) through the helper: `onSpawned` runs here, in this thread;
   * without it the helper releases the monitor by itself. A `standby` launch (one kept ready until
   * its start) does not hold the thread open until it is started.
   */
  launch(req: PipeLaunchRequest, onSpawned?: (pid: number) => void | Promise<void>, standby = false): Promise<PipeLaunchResult> {
    return new Promise((resolve) => {
      const id = this.request(
        { kind: 'launch', ...req, awaitStart: onSpawned !== undefined },
        {
          onReply: (r) => {
            if (r.kind === 'spawned' && onSpawned) {
              void Promise.resolve()
                .then(() => onSpawned(r.pid))
                // A helper that died meanwhile has already failed this launch: no new one for its `start`.
                .finally(() => {
                  if (!this.pending.has(id)) return;
                  this.standby.delete(id);
                  this.send({ kind: 'start', id });
                });
            } else if (r.kind === 'launched' && this.done(id)) {
              const { kind: _k, id: _i, ...result } = r;
              resolve(result);
            }
          },
          onLost: (error) => resolve({ exitCode: null, signal: null, output: '', syncLine: null, syncTimedOut: false, error }),
        },
        standby && onSpawned !== undefined,
      );
    });
  }

  /** Starts the helper process now rather than at the first request (it stays idle and unref'd until then). */
  start(): void {
    this.ensure();
  }

  /** Stops the helper (its running commands finish on their own). */
  close(): void {
    if (this.child?.connected) this.child.disconnect();
    this.child = undefined;
  }

  private request(req: Unnumbered<HelperRequest>, p: Pending, standby = false): number {
    const id = this.nextId++;
    this.pending.set(id, p);
    if (standby) this.standby.add(id);
    this.send({ ...req, id } as HelperRequest);
    return id;
  }

  private send(m: HelperRequest): void {
    const child = this.ensure();
    this.holdOpen();
    child.send(m, (e) => {
      if (e) this.lose(m.id, `cannot reach the spawn helper: ${e.message}`);
    });
  }

  /** The channel holds the thread open while a request other than a standby launch is in flight. */
  private holdOpen(): void {
    const channel = this.child && channelOf(this.child);
    if (this.pending.size > this.standby.size) channel?.ref();
    else channel?.unref();
  }

  /** Forgets request `id`; true when it was still pending. */
  private done(id: number): boolean {
    if (!this.pending.delete(id)) return false;
    this.standby.delete(id);
    this.holdOpen();
    return true;
  }

  private lose(id: number, error: string): void {
    const p = this.pending.get(id);
    if (p && this.done(id)) p.onLost(error);
  }

  private ensure(): ChildProcess {
    if (this.child?.connected) return this.child;
    const child = fork(this.entry, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [], serialization: 'json' });
    child.on('message', (m) => this.pending.get((m as HelperReply).id)?.onReply(m as HelperReply));
    child.on('exit', (code, signal) => {
      if (this.child === child) this.child = undefined;
      for (const id of [...this.pending.keys()]) this.lose(id, `the spawn helper exited (${code ?? signal}) before the request ended`);
    });
    child.on('error', () => undefined); // reported through 'exit' and the send callbacks
    // An idle helper must never keep a worker thread (or the node) alive.
    child.unref();
    channelOf(child)?.unref();
    this.child = child;
    return child;
  }
}

/** The IPC channel handle: ref'd while a request is in flight, so an idle helper never holds the thread open. */
function channelOf(child: ChildProcess): { ref(): void; unref(): void } | undefined {
  return (child as unknown as { channel?: { ref(): void; unref(): void } }).channel;
}

/** The compiled helper beside the running code (dist/workers/spawn-helper.js), or undefined from sources. */
export function helperEntry(fromUrl: string): string | undefined {
  const dir = path.dirname(new URL(fromUrl).pathname); // dist/src/os
  const f = path.resolve(dir, '../../workers/spawn-helper.js');
  return fs.existsSync(f) ? f : undefined;
}
