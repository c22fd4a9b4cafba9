/**
 * Monitors kept ready for restores (runner threads): a conmon exec'd with `--restore` and all its
 * paths, waiting on its start pipe over a slot of the task layout (warm/restore[-t][-i]/<slot>/). A
 * restore takes one (restore.ts): the task dir becomes a symlink to the slot, the slot's `image`
 * symlink names the checkpoint's CRIU images, and the start byte lets conmon run `runc restore` at
 * once, so conmon's exec and start-up (~7 ms on the bench VMs) leave the restore's downtime.
 *
 * conmon's argv fixes the container id, the paths and the terminal and stdin flags (a kind each), and
 * has no -T: as for an adopted prepared sandbox, the runner thread keeps the task's deadline. They are
 * held in memory, because the start pipe is this thread's spawn helper's; the helper kills the ones
 * still waiting when the thread goes. A slot left on disk is removed by recovery like a prepared
 * sandbox (recover.ts); its bundle has no config.json, so a monitor started by mistake fails at once.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import fs from '../../os/local-fs.js';
import { killSpawned } from '../../os/proc.js';
import { launchMonitor } from '../../monitor/launch.js';
import type { MonitorKind, ReadyRestore, ReadyRestoreSource, RuntimeContext } from '../context.js';
import { monitorOptions } from '../monitor-options.js';
import { writeJsonAtomic } from '../records.js';
import { traversable } from '../task-fs.js';
import { claimSlot, discardSlot, releaseSlot, slotAt, warmDir, WARM_CONTAINER_PREFIX } from './slots.js';

/** A kind whose monitors cannot be started rests this long before it is tried again. */
const REST_MS = 30_000;
/** A refill waits this long: a restored task gets the CPU for its first moments (a migration's downtime ends there). */
const REFILL_DELAY_MS = 100;

/** The slot directory name of a kind (never a warm-pool key: key.ts isWarmKey). */
export function readyKey(k: MonitorKind): string {
  return `restore${k.terminal ? '-t' : ''}${k.stdin ? '-i' : ''}`;
}

/** The monitors one TaskManager keeps ready, `size` per kind used. */
export class ReadyRestores implements ReadyRestoreSource {
  /** Per kind; the arrays are kept (a fill holds its own), emptied in place. */
  private readonly ready = new Map<string, ReadyRestore[]>();
  private readonly kinds = new Map<string, MonitorKind>();
  private readonly filling = new Map<string, Promise<void>>();
  private readonly resting = new Map<string, number>();
  private paused = 0;
  private closed = false;

  constructor(
    private readonly ctx: RuntimeContext,
    private readonly size: number,
  ) {}

  /** A ready monitor of `kind`, or undefined (the restore starts its own). */
  take(kind: MonitorKind): ReadyRestore | undefined {
    return this.ready.get(readyKey(kind))?.shift();
  }

  /** Tops `kind` up to the pool size in the background, a moment later. */
  refill(kind: MonitorKind): void {
    this.kinds.set(readyKey(kind), kind);
    setTimeout(() => this.startFill(kind), REFILL_DELAY_MS).unref();
  }

  private startFill(kind: MonitorKind): void {
    const key = readyKey(kind);
    if (this.stopped() || this.size <= 0 || this.filling.has(key) || Date.now() < (this.resting.get(key) ?? 0)) return;
    const filled = this.fill(key, kind)
      .catch((e: unknown) => {
        this.resting.set(key, Date.now() + REST_MS);
        if (process.env.STASIS_DEBUG) process.stderr.write(`stasis: starting a monitor for restores failed: ${String(e)}\n`);
      })
      .finally(() => this.filling.delete(key));
    this.filling.set(key, filled);
  }

  /**
   * Runs `fn` (recovery, which removes every unclaimed slot of the state dir) with none of this
   * manager's monitors waiting, then makes them ready again.
   */
  async whileRecovering<T>(fn: () => Promise<T>): Promise<T> {
    this.paused++;
    try {
      await this.letGo();
      return await fn();
    } finally {
      this.paused--;
      if (!this.stopped()) for (const k of this.kinds.values()) this.startFill(k);
    }
  }

  /** Kills the monitors still waiting and removes their slots. */
  async close(): Promise<void> {
    this.closed = true;
    await this.letGo();
  }

  /** Kills a monitor taken but not used (the restore failed before its task dir was made) and removes its slot. */
  async drop(r: ReadyRestore): Promise<void> {
    r.abort();
    await this.discard(r);
  }

  private stopped(): boolean {
    return this.closed || this.paused > 0;
  }

  /** Waits for the fills under way (they stop), then drops every waiting monitor. */
  private async letGo(): Promise<void> {
    await Promise.all(this.filling.values());
    const all = [...this.ready.values()].flatMap((list) => list.splice(0));
    await Promise.all(all.map((r) => this.drop(r)));
  }

  private async fill(key: string, kind: MonitorKind): Promise<void> {
    const list = this.ready.get(key) ?? [];
    this.ready.set(key, list);
    while (!this.stopped() && list.length < this.size) {
      const r = await spawnReady(this.ctx, key, kind);
      if (this.stopped()) return this.drop(r);
      list.push(r);
      // One that dies while it waits (killed from outside) leaves the list, and its slot goes.
      void r.launched
        .catch(() => undefined)
        .then(() => {
          const i = list.indexOf(r);
          if (i < 0) return;
          list.splice(i, 1);
          return this.discard(r);
        });
    }
  }

  private async discard(r: ReadyRestore): Promise<void> {
    // Killed, or failed by itself: either way it is gone once its launch settled, and its slot goes.
    await r.launched.catch(() => undefined);
    await discardSlot(this.ctx, slotAt(this.ctx, path.basename(path.dirname(r.dir)), path.basename(r.dir)), r.containerId);
  }
}

/** Starts one monitor for `kind` over a new slot of `key`; resolves once it waits on its start pipe. */
async function spawnReady(ctx: RuntimeContext, key: string, kind: MonitorKind): Promise<ReadyRestore> {
  const id = `s-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
  const slot = slotAt(ctx, key, id);
  const containerId = `${WARM_CONTAINER_PREFIX}${key}.${id}`;
  const p = slot.paths;
  await fs.mkdir(p.dir, { recursive: true, mode: 0o711 });
  try {
    await traversable(path.dirname(p.dir), warmDir(ctx));
    await fs.mkdir(p.runDir, { mode: 0o700 });
    await fs.mkdir(p.bundle, { mode: 0o711 });
    // What recovery reads of a slot: its container id, and (below) the pid of the conmon waiting there.
    const rec = { version: 1, key, containerId, createdAt: new Date().toISOString(), restore: true };
    await writeJsonAtomic(slot.prepared, rec);
    let go!: (start: boolean) => void;
    const gate = new Promise<boolean>((resolve) => (go = resolve));
    let spawned!: () => void;
    const waiting = new Promise<void>((resolve) => (spawned = resolve));
    const image = path.join(slot.dir, 'image');
    const launched = launchMonitor(
      monitorOptions(ctx, {
        criu: ctx.config.criu,
        containerId,
        bundle: p.bundle,
        runDir: p.runDir,
        terminal: kind.terminal,
        stdin: kind.stdin,
        restoreFrom: image,
        standby: true,
        onSpawn: async (pid) => {
          // So that a node's close (after its threads ended) or recovery kills it too (slots.ts
          // discardSlot). A slot removed meanwhile (a close) has nothing left to record it in.
          await writeJsonAtomic(slot.prepared, { ...rec, monitorPid: pid }).catch(() => undefined);
          spawned();
          if (!(await gate)) killSpawned(pid);
        },
      }),
    );
    // It settles before the spawn only when it failed.
    await Promise.race([waiting, launched]);
    return {
      dir: slot.dir,
      containerId,
      image,
      claim: (owner) => claimSlot(slot, owner),
      release: () => releaseSlot(slot),
      start: () => go(true),
      abort: () => go(false),
      launched,
    };
  } catch (e) {
    await discardSlot(ctx, slot, containerId);
    throw e;
  }
}
