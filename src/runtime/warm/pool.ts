/**
 * The per-node warm pool: a few prepared sandboxes per key (rootfs, user, network, limits), made in
 * the background so a job only adopts one and runs `runc start`. Adoption: claim a ready slot
 * (O_EXCL), check its container is `created` under a live conmon, make tasks/<ns>/<id> a symlink to
 * it, write the job's launch script into the slot's node-owned job dir (never into its rootfs) and
 * the task record (containerId = the slot's). Every adoption (and every miss) refills the key in the
 * background. The slots live on disk, so every worker thread of a node shares them.
 */
import fs from '../../os/local-fs.js';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import { liveMonitorPid } from '../../monitor/exit-file.js';
import type { OciSpec } from '../../sandbox/types.js';
import { RUNTIME_NAME, type RuntimeContext } from '../context.js';
import { TaskProcess } from '../init-process.js';
import { withLock } from '../lock.js';
import { writeJsonAtomic, type TaskRecord } from '../records.js';
import type { CreateTaskOptions, Task } from '../task.js';
import { templateOf, warmIneligible, warmKey, type WarmTemplate } from './key.js';
import { writeJob } from '../task-fs.js';
import { unniceForJob } from './priority.js';
import { claimSlot, discardSlot, linkTaskToSlot, listSlots, prepareSlot, readPrepared, releaseSlot, slotClaim, warmDir, type Slot } from './slots.js';

/** Options of the warm pool. */
export interface WarmOptions {
  /** Ready sandboxes kept per key (0 disables the pool). */
  size: number;
  /** Keys kept warm at once; the least recently used beyond this is drained (default 4). */
  maxKeys?: number;
}

/** What createTask hands to adopt(). */
export interface AdoptInput {
  namespace: string;
  id: string;
  rootfs: string;
  /** The task's own spec (real argv/env/cwd), as createTask built it. */
  spec: OciSpec;
}

/** Delay before refilling, so the adopter's `runc start` goes first on a busy machine. */
const REFILL_DELAY_MS = 25;
/** Sandboxes prepared at once by one filler. */
const FILL_PARALLEL = 2;

/** The warm pool of one TaskManager (one per worker thread; the slots are shared on disk). */
export class WarmPool {
  private readonly templates = new Map<string, WarmTemplate>();
  private readonly filling = new Set<string>();
  private readonly again = new Set<string>();
  private readonly failed = new Map<string, number>();
  /** Fills under way, and refills waiting for their delay (close waits for the one, drops the other). */
  private readonly fills = new Set<Promise<void>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(
    private readonly ctx: RuntimeContext,
    private readonly o: WarmOptions,
  ) {}

  /** Adopts a ready sandbox for task `a`, or resolves undefined (the caller creates it the normal way). */
  async adopt(o: CreateTaskOptions, a: AdoptInput): Promise<Task | undefined> {
    if (this.o.size <= 0 || warmIneligible(o) !== null) return undefined;
    const template = templateOf(o, a.rootfs);
    const key = warmKey(template);
    this.remember(key, template);
    try {
      for (const slot of await listSlots(this.ctx, key)) {
        const t = await this.tryAdopt(slot, o, a);
        if (t !== null) return t;
      }
      return undefined;
    } finally {
      this.refill(key);
    }
  }

  /** Adopts `slot`: a Task, undefined when the task must take the normal path, null to try the next slot. */
  private async tryAdopt(slot: Slot, o: CreateTaskOptions, a: AdoptInput): Promise<Task | undefined | null> {
    const prepared = await readPrepared(slot);
    if (!prepared?.pid || !(await claimSlot(slot, `${a.namespace}/${a.id}`))) return null;
    const st = await this.ctx.runc.state(prepared.containerId).catch(() => null);
    const conmonPid = st?.status === 'created' ? await liveMonitorPid(slot.paths.runDir) : null;
    if (conmonPid === null) {
      void discardSlot(this.ctx, slot, prepared.containerId);
      return null;
    }
    unniceForJob([prepared.pid, conmonPid]);
    const p = await linkTaskToSlot(this.ctx, a.namespace, a.id, { dir: slot.dir, release: () => releaseSlot(slot) });
    try {
      const proc = o.process;
      const terminal = prepared.template.terminal === true;
      const job = { args: proc.args, ...(proc.env ? { env: proc.env } : {}), ...(proc.cwd ? { cwd: proc.cwd } : {}), terminal, ...(o.cpuSeconds !== undefined ? { cpuSeconds: o.cpuSeconds } : {}) };
      await writeJob(this.ctx, p, job, proc.user);
      const linux = (prepared.spec.linux ?? {}) as Record<string, unknown>;
      const rec: TaskRecord = {
        version: 1,
        info: {
          id: a.id,
          namespace: a.namespace,
          runtime: { name: RUNTIME_NAME, path: this.ctx.config.runc },
          spec: { ...prepared.spec, annotations: { ...(a.spec.annotations ?? {}) }, linux },
          bundle: p.bundle,
          containerId: prepared.containerId,
          createdAt: new Date().toISOString(),
          annotations: { ...(o.annotations ?? {}) },
        },
        rootfs: a.rootfs,
        ...(prepared.lower ? { lower: prepared.lower } : {}),
        process: { ...proc },
        limits: { ...(o.limits ?? {}) },
        network: o.network ?? 'none',
        terminal,
        stdin: prepared.template.stdin === true,
        ...(prepared.template.logMaxBytes !== undefined ? { logMaxBytes: prepared.template.logMaxBytes } : {}),
        pid: prepared.pid,
        prepared: { slot: slot.dir, preparedAt: prepared.createdAt },
      };
      await writeJsonAtomic(p.record, rec);
      return new TaskProcess(this.ctx, rec, p);
    } catch {
      await fs.rm(p.dir, { force: true });
      void discardSlot(this.ctx, slot, prepared.containerId);
      return undefined;
    }
  }

  /** Refills `key` to `size` ready slots in the background (one filler per key and process). */
  refill(key: string): void {
    const template = this.templates.get(key);
    if (this.closed || !template || Date.now() < (this.failed.get(key) ?? 0)) return;
    // A filler already running may have counted before this adoption: it looks again when done.
    if (this.filling.has(key)) return void this.again.add(key);
    this.filling.add(key);
    const t = setTimeout(() => {
      this.timers.delete(t);
      const filled = this.fill(key, template)
        .catch((e: unknown) => {
          // A key whose sandboxes cannot be made (rootfs gone, runc failing) rests for a while.
          this.failed.set(key, Date.now() + 30_000);
          if (process.env.STASIS_DEBUG) process.stderr.write(`stasis: preparing a sandbox failed: ${String(e)}\n`);
        })
        .finally(() => {
          this.fills.delete(filled);
          this.filling.delete(key);
          if (this.again.delete(key)) this.refill(key);
        });
      this.fills.add(filled);
    }, REFILL_DELAY_MS);
    this.timers.add(t);
    t.unref();
  }

  /**
   * Stops refilling and waits for the preparations under way, so that a drain after it
   * (drainPreparedSandboxes) finds every slot whole and none is made after it. The slots stay for
   * their owner to remove.
   */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all([...this.fills]);
  }

  private async fill(key: string, template: WarmTemplate): Promise<void> {
    const lock = path.join(warmDir(this.ctx), `${key}.lock`);
    await fs.mkdir(path.dirname(lock), { recursive: true });
    await withLock(
      lock,
      async () => {
        for (;;) {
          if (this.closed || !this.templates.has(key)) return;
          const free = await countFree(await listSlots(this.ctx, key));
          if (free >= this.o.size) return;
          // Two at a time: a slot is mostly waiting on conmon and runc, so a second one overlaps.
          const n = Math.min(this.o.size - free, FILL_PARALLEL);
          await Promise.all(Array.from({ length: n }, () => prepareSlot(this.ctx, key, template)));
        }
      },
      1_000,
    ).catch((e: unknown) => {
      // Another thread fills this key right now (lock timeout): nothing to do.
      if ((e as { code?: string }).code === 'ERR_UNAVAILABLE') return;
      throw e;
    });
  }

  private remember(key: string, template: WarmTemplate): void {
    this.templates.delete(key);
    this.templates.set(key, template);
    const max = this.o.maxKeys ?? 4;
    while (this.templates.size > max) {
      const oldest = this.templates.keys().next().value as string;
      this.templates.delete(oldest);
      void drainKey(this.ctx, oldest);
    }
  }
}

/**
 * Free slots: unclaimed, ready or being prepared. prepared.json is read after the claim, so a slot
 * renamed away for removal between the listing and the reads does not count.
 */
async function countFree(slots: Slot[]): Promise<number> {
  let n = 0;
  for (const s of slots) if ((await slotClaim(s)) === undefined && (await readPrepared(s)) !== undefined) n++;
  return n;
}

/** Deletes every unclaimed slot of `key` (claiming each first, so no adopter takes it meanwhile). */
async function drainKey(ctx: RuntimeContext, key: string): Promise<number> {
  let n = 0;
  for (const s of await listSlots(ctx, key)) {
    if (await claimSlot(s, `drain ${process.pid} ${threadId}`)) {
      await discardSlot(ctx, s);
      n++;
    }
  }
  await fs.rmdir(path.join(warmDir(ctx), key)).catch(() => undefined);
  return n;
}

/** The pool size `stasis serve` uses unless told otherwise (--warm-pool). */
export const SERVE_WARM_POOL = 2;
