import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import { openTaskManager } from '../../../src/runtime/task-manager.js';
import { readRuncState } from '../../../src/runc/state-file.js';
import { Runc } from '../../../src/runc/runc.js';
import type { Task, TaskManager } from '../../../src/runtime/task.js';
import { drainPreparedSandboxes } from '../../../src/runtime/warm/recover.js';
import { LAUNCHER_ARGS } from '../../../src/sandbox/launcher.js';
import { usesLoader } from '../../../src/sandbox/seccomp/loader.js';
import { starterArgs } from '../../../src/sandbox/starter.js';
import { nativeFile } from '../../../src/os/native-addon.js';
import { cleanupTasks, logText, openHarness, uid, until, type Harness } from './harness.js';

/** What a prepared sandbox was made for (prepared.json's template). */
interface Made {
  stdin?: boolean;
  terminal?: boolean;
}

/** Every ready (pid recorded) and unclaimed prepared sandbox under the state dir. */
async function readySlotDirs(stateDir: string): Promise<{ dir: string; pid: number; template?: Made }[]> {
  const out: { dir: string; pid: number; template?: Made }[] = [];
  // A slot being made or removed meanwhile reads as not ready.
  for (const key of await fs.readdir(path.join(stateDir, 'run', 'warm')).catch(() => [] as string[])) {
    for (const s of await fs.readdir(path.join(stateDir, 'run', 'warm', key)).catch(() => [] as string[])) {
      const dir = path.join(stateDir, 'run', 'warm', key, s);
      const prepared = JSON.parse(await fs.readFile(path.join(dir, 'prepared.json'), 'utf8').catch(() => '{}')) as { pid?: number; template?: Made };
      const claimed = await fs.access(path.join(dir, 'claim')).then(() => true, () => false);
      if (prepared.pid && !claimed) out.push({ dir, pid: prepared.pid, ...(prepared.template ? { template: prepared.template } : {}) });
    }
  }
  return out;
}

/** Ready and unclaimed prepared sandboxes of the kind `made` says. */
async function readySlots(stateDir: string, made: Made = {}): Promise<number> {
  const kind = (t?: Made) => !!t?.stdin === !!made.stdin && !!t?.terminal === !!made.terminal;
  return (await readySlotDirs(stateDir)).filter((s) => kind(s.template)).length;
}

/** The container and conmon pids of the first ready prepared sandbox whose conmon wrote its pid. */
async function readySlotPids(stateDir: string): Promise<[number, number] | undefined> {
  for (const s of await readySlotDirs(stateDir)) {
    // conmon.pid not written yet: not ready either.
    const conmon = Number(await fs.readFile(path.join(s.dir, 'run', 'conmon.pid'), 'utf8').catch(() => '0'));
    if (conmon) return [s.pid, conmon];
  }
  return undefined;
}

/** The nice value of `pid` (field 19 of /proc/<pid>/stat). */
async function niceOf(pid: number): Promise<number> {
  const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

describeWithHost(['runc', 'conmon', 'criu', 'root', 'busybox'], 'prepared sandboxes (warm pool)', () => {
  let h: Harness;
  let warm: TaskManager;
  beforeAll(async () => {
    h = await openHarness('warm');
    warm = await openTaskManager({ stateDir: h.stateDir }, { warm: { size: 1 } });
  });
  afterEach(() => cleanupTasks(h));
  afterAll(async () => {
    await cleanupTasks(h);
    await drainPreparedSandboxes({ stateDir: h.stateDir });
    const left = await fs.readdir(path.join(h.stateDir, 'run', 'runc')).catch(() => []);
    await fs.rm(h.stateDir, { recursive: true, force: true });
    expect(left).toEqual([]);
  });

  /** Creates a task through the warm manager once a sandbox is ready (the first create of a key is a miss). */
  async function adopted(args: string[], extra: { env?: string[]; cwd?: string } = {}, made: Made = {}) {
    const kind = { ...(made.stdin ? { stdin: true } : {}) };
    const tty = { ...(made.terminal ? { terminal: true } : {}) };
    await warm.create({ id: uid('prime'), rootfs: h.rootfs, process: { args: ['true'], ...tty }, ...kind }).then(async (t) => {
      await t.start();
      await t.wait();
      await t.delete();
    });
    await until(async () => (await readySlots(h.stateDir, made)) >= 1, 20_000, 'a ready sandbox');
    const t = await warm.create({ id: uid(), rootfs: h.rootfs, process: { args, ...extra, ...tty }, ...kind });
    expect(t.info.containerId.startsWith('warm.')).toBe(true);
    return t;
  }

  it("adopts a prepared sandbox: argv, env, cwd and exit status as without it; the init is pid 1, the job its child", async () => {
    const t = await adopted(['sh', '-c', 'echo "A=$A"; pwd; cat /proc/1/cmdline | tr "\\0" " "; echo; env | sort | tr "\\n" " "; exit 3'], {
      env: ["A=it's $x", 'B=2'],
      cwd: '/tmp',
    });
    expect((await t.state()).status).toBe('created');
    await t.start();
    expect(await t.wait()).toMatchObject({ status: 3, reason: 'exited' });
    const lines = await logText(t);
    expect(lines[0]).toBe("A=it's $x");
    expect(lines[1]).toBe('/tmp');
    const pid1 = t.info.spec.process!.args;
    expect(lines[2]).toBe(`${pid1.join(' ')} `);
    // Same environment as a task created the normal way (sh itself adds PWD and SHLVL).
    const plain = await h.tm.create({ id: uid(), rootfs: h.rootfs, process: { args: ['sh', '-c', 'env | sort | tr "\\n" " "'], env: ["A=it's $x", 'B=2'], cwd: '/tmp' } });
    await plain.start();
    await plain.wait();
    expect(lines.at(-1)).toBe((await logText(plain)).at(-1));
    // The native start where it is built (loading the compiled filter), else the launcher, behind the
    // seccomp loader where the node compiled its profile.
    if (nativeFile('stasis-start')) expect(pid1).toEqual(starterArgs(usesLoader(t.info.spec)));
    else expect(pid1.slice(-LAUNCHER_ARGS.length)).toEqual([...LAUNCHER_ARGS]);
    expect(t.info.process?.args).toEqual(['sh', '-c', expect.stringContaining('cmdline')]);
    expect(await t.delete()).toMatchObject({ status: 3 });
    await expect(fs.lstat(path.join(h.stateDir, 'run', 'tasks', 'default', t.id))).rejects.toThrow();
  });

  it('prepares sandboxes niced (conmon and the container at 10) and gives an adopted job the normal priority', async () => {
    const t = await adopted(['sh', '-c', 'cut -d " " -f 19 /proc/self/stat']);
    const conmon = Number(await fs.readFile(path.join(h.stateDir, 'run', 'tasks', 'default', t.id, 'run', 'conmon.pid'), 'utf8'));
    expect([await niceOf(conmon), await niceOf((await t.state()).pid)]).toEqual([0, 0]);
    await t.start();
    expect(await t.wait()).toMatchObject({ status: 0 });
    expect(await logText(t)).toEqual(['0']);
    const ready = await until(() => readySlotPids(h.stateDir), 20_000, 'a ready sandbox');
    expect([await niceOf(ready[0]), await niceOf(ready[1])]).toEqual([10, 10]);
  });

  it("signals reach the job itself (its own TERM trap runs); pids and stats work on an adopted task", async () => {
    const t = await adopted(['sh', '-c', 'trap "exit 7" TERM; while :; do sleep 0.1; done']);
    await t.start();
    await until(async () => (await t.pids()).some((p) => p.info.comm === 'sleep'), 10_000, 'sleep running');
    expect((await t.stats()).pids.current).toBeGreaterThanOrEqual(1);
    await t.update({ pids: 50 });
    expect((await warm.get(t.id)).info.process?.args?.[0]).toBe('sh');
    await t.kill('SIGTERM');
    expect(await t.wait()).toMatchObject({ status: 7, reason: 'exited' });
    const k = await adopted(['sleep', '300']);
    await k.start();
    await k.kill('KILL');
    expect(await k.wait()).toMatchObject({ status: 137, signal: 'SIGKILL' });
  });

  it('terminal and stdin tasks adopt sandboxes prepared with a terminal or a stdin pipe; a console size takes the normal path', async () => {
    const tty = await adopted(['sh', '-c', '[ -t 0 ] && [ -t 1 ] && echo "on a tty, TERM=$TERM"'], {}, { terminal: true });
    await tty.start();
    expect(await tty.wait()).toMatchObject({ status: 0, reason: 'exited' });
    expect((await logText(tty)).map((l) => l.trim())).toContain('on a tty, TERM=xterm');
    const fed = await adopted(['sh', '-c', 'read -r line; echo "got $line"; cat | wc -c'], {}, { stdin: true });
    await fed.start();
    await fed.writeStdin('hello\n12345');
    await fed.closeIO();
    expect(await fed.wait()).toMatchObject({ status: 0, reason: 'exited' });
    expect((await logText(fed)).map((l) => l.trim())).toEqual(['got hello', '5']);
    const sized = await warm.create({ id: uid(), rootfs: h.rootfs, process: { args: ['sh'], terminal: true, consoleSize: { width: 80, height: 24 } } });
    expect(sized.info.containerId).toBe(`default+${sized.id}`);
  });

  it('a task with a timeout or a missing program adopts one like any other', async () => {
    await adopted(['true']).then((t) => t.delete());
    await until(async () => (await readySlots(h.stateDir)) >= 1, 20_000, 'a ready sandbox');
    const timed = await warm.create({ id: uid(), rootfs: h.rootfs, process: { args: ['true'] }, timeoutSeconds: 30 });
    expect(timed.info.containerId.startsWith('warm.')).toBe(true);
    // The launch script reports a missing program the same way in a prepared sandbox as in a new one.
    const missing = await adopted(['no-such-program']);
    await missing.start();
    expect(await missing.wait()).toMatchObject({ status: 127 });
    expect(await logText(missing)).toEqual(['stasis: cannot start: no-such-program: command not found']);
  });

  it('an adopted task checkpoints and restores', async () => {
    const t = await adopted(['sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i; sleep 0.1; done']);
    await t.start();
    await until(async () => (await logText(t)).length >= 3, 10_000, 'counting');
    const dir = path.join(os.tmpdir(), `stasis-warm-ck-${uid()}`);
    await t.checkpoint(dir);
    expect(await t.wait()).toMatchObject({ reason: 'checkpointed' });
    const before = (await logText(t)).length;
    const r = await warm.restore({ id: uid('r'), from: dir });
    await until(async () => Number((await logText(r)).at(-1)) >= before + 2, 10_000, 'restored count');
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('recover() deletes prepared sandboxes nobody adopted and keeps adopted tasks', async () => {
    const t = await adopted(['sleep', '300']);
    await until(async () => (await readySlots(h.stateDir)) >= 1, 20_000, 'a refill');
    await warm.recover();
    expect(await readySlots(h.stateDir)).toBe(0);
    expect((await t.state()).status).toBe('created');
    await t.start();
    expect((await t.state()).status).toBe('running');
    const runcIds = await fs.readdir(path.join(h.stateDir, 'run', 'runc'));
    expect(runcIds).toEqual([t.info.containerId]);
  });

  it('close() waits for the preparations under way and starts no more; the sandboxes it made stay for the drain', async () => {
    // A key of its own (a log cap no other test uses), so the suite's manager prepares none of it.
    const closing = await openTaskManager({ stateDir: h.stateDir }, { warm: { size: 2 } });
    const before = new Set(await fs.readdir(path.join(h.stateDir, 'run', 'warm')).catch(() => [] as string[]));
    const template = { rootfs: h.rootfs, process: { args: ['true'] }, logMaxBytes: 123_457 };
    const t = await closing.create({ id: uid('miss'), ...template });
    await t.start();
    await t.wait();
    await t.delete();
    // The refill starts 25 ms after the miss: close as soon as its first slot directory is there.
    const warmDir = path.join(h.stateDir, 'run', 'warm');
    const slotsOf = async (key: string) => (await fs.readdir(path.join(warmDir, key)).catch(() => [] as string[])).filter((n) => n.startsWith('s-')).sort();
    let key: string | undefined;
    for (const until = Date.now() + 20_000; Date.now() < until; await new Promise((r) => setTimeout(r, 2))) {
      key = (await fs.readdir(warmDir)).find((k) => !before.has(k) && !k.endsWith('.lock'));
      if (key && (await slotsOf(key)).length > 0) break;
    }
    await closing.close();
    const made = await slotsOf(key!);
    expect(made.length).toBeGreaterThan(0);
    // Each is whole: its container created under a live conmon (prepared.json holds its pid).
    for (const s of made) expect(JSON.parse(await fs.readFile(path.join(warmDir, key!, s, 'prepared.json'), 'utf8'))).toMatchObject({ pid: expect.any(Number) });
    // An adoption after the close refills nothing.
    const adopted = await closing.create({ id: uid('after'), ...template });
    expect(adopted.info.containerId.startsWith('warm.')).toBe(true);
    await adopted.start();
    await adopted.wait();
    await adopted.delete();
    await new Promise((r) => setTimeout(r, 500));
    expect((await slotsOf(key!)).length).toBe(made.length - 1);
  });

  /**
   * Makes `tm` prepare a sandbox of a key of its own (`logMaxBytes`): a miss, then the adoption of the
   * ready sandbox its refill made (whose refill starts a new one). Resolves to the first slot then
   * seen while it is being prepared (with its prepared.json when `recorded`), and the adopted task.
   */
  async function slotInPreparation(tm: TaskManager, logMaxBytes: number, recorded: boolean): Promise<{ key: string; slot: string; adopted: Task }> {
    const warmDir = path.join(h.stateDir, 'run', 'warm');
    const before = new Set(await fs.readdir(warmDir).catch(() => [] as string[]));
    const template = { rootfs: h.rootfs, process: { args: ['true'] }, logMaxBytes };
    const miss = await tm.create({ id: uid('miss'), ...template });
    expect(miss.info.containerId.startsWith('warm.')).toBe(false);
    await miss.start();
    await miss.wait();
    await miss.delete();
    const slotsOf = async () => {
      const out: { key: string; slot: string; pid?: number; recorded: boolean; claimed: boolean }[] = [];
      for (const key of (await fs.readdir(warmDir)).filter((k) => !before.has(k) && !k.endsWith('.lock'))) {
        for (const slot of (await fs.readdir(path.join(warmDir, key)).catch(() => [] as string[])).filter((n) => n.startsWith('s-'))) {
          // A slot removed meanwhile reads as neither recorded nor claimed.
          const prepared = await fs.readFile(path.join(warmDir, key, slot, 'prepared.json'), 'utf8').then((x) => JSON.parse(x) as { pid?: number }, () => undefined);
          const claimed = await fs.access(path.join(warmDir, key, slot, 'claim')).then(() => true, () => false);
          out.push({ key, slot, ...(prepared?.pid ? { pid: prepared.pid } : {}), recorded: prepared !== undefined, claimed });
        }
      }
      return out;
    };
    await until(async () => (await slotsOf()).some((s) => s.pid !== undefined && !s.claimed), 20_000, 'a ready sandbox');
    const adopted = await tm.create({ id: uid('hit'), ...template });
    expect(adopted.info.containerId.startsWith('warm.')).toBe(true);
    // Its refill starts 25 ms after the adoption and takes tens of ms: look every millisecond.
    for (const end = Date.now() + 20_000; Date.now() < end; await new Promise((r) => setTimeout(r, 1))) {
      const s = (await slotsOf()).find((x) => x.pid === undefined && !x.claimed && (!recorded || x.recorded));
      if (s) return { key: s.key, slot: s.slot, adopted };
    }
    throw new Error('no sandbox was seen while being prepared');
  }

  it('a task that finds no sandbox ready takes the one being prepared, once it is ready', async () => {
    const own = await openTaskManager({ stateDir: h.stateDir }, { warm: { size: 1 } });
    try {
      const { key, slot, adopted } = await slotInPreparation(own, 123_461, false);
      const t = await own.create({ id: uid('waits'), rootfs: h.rootfs, process: { args: ['sh', '-c', 'exit 5'] }, logMaxBytes: 123_461 });
      // Not a create of its own: the container of the slot that was being prepared.
      expect(t.info.containerId).toBe(`warm.${key}.${slot}`);
      // Its record says it waited (the node counts it as `waited`, not as a ready hit).
      const rec = JSON.parse(await fs.readFile(path.join(h.stateDir, 'run', 'tasks', 'default', t.id, 'task.json'), 'utf8')) as { prepared?: { waited?: boolean } };
      expect(rec.prepared?.waited).toBe(true);
      await t.start();
      expect(await t.wait()).toMatchObject({ status: 5, reason: 'exited' });
      await t.delete();
      await adopted.delete();
    } finally {
      await own.close();
    }
  });

  it("another thread's task waits for a sandbox this one prepares (it sees it on disk)", async () => {
    const filler = await openTaskManager({ stateDir: h.stateDir }, { warm: { size: 1 } });
    const other = await openTaskManager({ stateDir: h.stateDir }, { warm: { size: 1 } });
    try {
      const { key, slot, adopted } = await slotInPreparation(filler, 123_463, true);
      const t = await other.create({ id: uid('waits'), rootfs: h.rootfs, process: { args: ['true'] }, logMaxBytes: 123_463 });
      expect(t.info.containerId).toBe(`warm.${key}.${slot}`);
      await t.start();
      expect(await t.wait()).toMatchObject({ status: 0 });
      await t.delete();
      await adopted.delete();
    } finally {
      await Promise.all([filler.close(), other.close()]);
    }
  });

  it('reads runc state from state.json as runc reports it: created, running, paused, stopped', async () => {
    const runc = new Runc({ binary: '/usr/sbin/runc', root: path.join(h.stateDir, 'run', 'runc'), fastPaths: false });
    const t = await h.tm.create({ id: uid(), rootfs: h.rootfs, process: { args: ['sleep', '300'] } });
    const same = async () => {
      const [fast, real] = await Promise.all([readRuncState(path.join(h.stateDir, 'run', 'runc'), t.info.containerId), runc.state(t.info.containerId)]);
      expect(fast).toMatchObject({ status: real!.status, pid: real!.pid, bundle: real!.bundle });
      return real!.status;
    };
    expect(await same()).toBe('created');
    await t.start();
    expect(await same()).toBe('running');
    await t.pause();
    expect(await same()).toBe('paused');
    await t.resume();
    await t.kill('KILL');
    await t.wait();
    expect(await same()).toBe('stopped');
    expect(await readRuncState(path.join(h.stateDir, 'run', 'runc'), 'default+nope')).toBeNull();
    // delete() of a stopped task removes its cgroups and runc state without runc, as runc would.
    const state = JSON.parse(await fs.readFile(path.join(h.stateDir, 'run', 'runc', t.info.containerId, 'state.json'), 'utf8')) as { cgroup_paths: Record<string, string> };
    await t.delete();
    for (const cg of Object.values(state.cgroup_paths)) await expect(fs.stat(cg)).rejects.toThrow();
    expect(await runc.state(t.info.containerId)).toBeNull();
  });
});
