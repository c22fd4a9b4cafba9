/**
 * The native start (native/start.c) as every task's pid 1, against the chain it replaces (tini and
 * busybox sh, STASIS_NATIVE_START=0): the same argv, environment, directory, start failures, signals,
 * statuses, terminal and CPU limit; checkpoints restore under the pid 1 they were taken with.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { nativeFile } from '../../../src/os/native-addon.js';
import { DEFAULT_USERNS } from '../../../src/config/schema.js';
import type { CreateTaskOptions, Task } from '../../../src/runtime/task.js';
import { STARTER_PATHS } from '../../../src/sandbox/starter.js';
import { describeWithHost } from '../../helpers/host.js';
import { expectImageRefused, harnessPair, logText, restoredOn, runSh, uid, until, type Harness } from './harness.js';

type Proc = CreateTaskOptions['process'];

describeWithHost(['runc', 'conmon', 'criu', 'root', 'busybox'], 'the native start as pid 1, against tini and busybox sh', () => {
  // Built by `npm run build` wherever a C compiler is; CI has one, so there it must be.
  const pair = harnessPair('start', { STASIS_NATIVE_START: '0' }, () => {
    if (!nativeFile('stasis-start')) throw new Error('native/build/stasis-start is not built (npm run build needs gcc and libc6-dev)');
  });
  const ckRoot = () => path.join(pair.h.stateDir, 'checkpoints');
  let scripted: string;

  beforeAll(async () => {
    // A rootfs with a program that has no #! line (busybox sh ran those under the launch script).
    scripted = await fs.mkdtemp(path.join(os.tmpdir(), 'stasis-start-rootfs-'));
    await fs.cp(pair.h.rootfs, scripted, { recursive: true, verbatimSymlinks: true });
    await fs.writeFile(path.join(scripted, 'bin', 'no-shebang'), 'echo "scripted $1 $0"\nexit 5\n', { mode: 0o755 });
    await fs.writeFile(path.join(scripted, 'bin', 'not-exec'), 'echo no\n', { mode: 0o644 });
  });
  afterAll(async () => {
    if (scripted) await fs.rm(scripted, { recursive: true, force: true });
  });

  /** Runs `proc` to its end on `h`: status, signal and output lines. */
  async function outcome(h: Harness, proc: Proc, extra: Partial<CreateTaskOptions> = {}) {
    const t = await h.tm.create({ id: uid(), rootfs: h.rootfs, process: proc, ...extra });
    await t.start();
    const exit = await t.wait();
    const lines = await logText(t);
    await t.delete();
    return { status: exit.status, signal: exit.signal, lines, args: t.info.spec.process!.args };
  }

  /** `proc` on both nodes: the outcomes, after checking the native start was pid 1 on the one and not on the other. */
  async function both(proc: Proc, extra: Partial<CreateTaskOptions> = {}) {
    const [now, before] = [await outcome(pair.h, proc, extra), await outcome(pair.old, proc, extra)];
    expect(now.args[0]).toBe(STARTER_PATHS.program);
    expect(before.args).not.toContain(STARTER_PATHS.program);
    return { now: { ...now, args: undefined }, before: { ...before, args: undefined } };
  }

  it('gives the job the same argv, environment and working directory, and passes its exit status on', async () => {
    const { now, before } = await both({
      args: ['sh', '-c', 'echo "$0|$1|$2"; pwd; env | sort; exit 3', 'zero', "it's $x", ''],
      env: ['A=1', 'B=two words', 'A=again', 'HOME=/tmp'],
      cwd: '/tmp',
    });
    expect(now).toEqual(before);
    expect(now.status).toBe(3);
    expect(now.lines.slice(0, 2)).toEqual(["zero|it's $x|", '/tmp']);
    expect(now.lines).toContain('A=again');
    expect(now.lines).not.toContain('A=1');
  });

  it('reports every start failure with the same line and status (127 missing, 126 not runnable)', async () => {
    const cases: [Proc, number, string][] = [
      [{ args: ['true'], cwd: '/no/such/dir' }, 127, 'stasis: cannot start: working directory /no/such/dir: no such directory'],
      [{ args: ['no-such-program'] }, 127, 'stasis: cannot start: no-such-program: command not found'],
      [{ args: ['/no/such/program'] }, 127, 'stasis: cannot start: /no/such/program: no such file or directory'],
      [{ args: ['/etc/passwd'] }, 126, 'stasis: cannot start: /etc/passwd: permission denied'],
      [{ args: ['not-exec'] }, 126, 'stasis: cannot start: not-exec: permission denied'],
      [{ args: ['true'], env: ['PATH=/nowhere'] }, 127, 'stasis: cannot start: true: command not found'],
    ];
    for (const [proc, status, line] of cases) {
      const { now, before } = await both(proc, { rootfs: scripted });
      expect(now).toEqual(before);
      expect(now).toMatchObject({ status, lines: [line] });
    }
  });

  it('runs a program without a #! line with busybox sh, as the launch script did', async () => {
    const { now, before } = await both({ args: ['no-shebang', 'arg'] }, { rootfs: scripted });
    expect(now).toEqual(before);
    expect(now).toMatchObject({ status: 5, lines: ['scripted arg /bin/no-shebang'] });
  });

  it('forwards a signal to the job and its group, and exits 128+n when a signal ends the job', async () => {
    for (const h of [pair.h, pair.old]) {
      const t = await h.tm.create({ id: uid(), rootfs: h.rootfs, process: { args: ['sh', '-c', 'trap "echo got TERM; exit 7" TERM; sleep 600 & echo up; wait'] } });
      await t.start();
      await until(async () => (await logText(t)).includes('up'), 10_000, 'the job up');
      await t.kill('TERM');
      expect(await t.wait()).toMatchObject({ status: 7 });
      expect(await logText(t)).toEqual(['up', 'got TERM']);
      await t.delete();
    }
    const { now, before } = await both({ args: ['sh', '-c', 'kill -USR1 $$'] });
    expect(now).toEqual(before);
    expect(now.status).toBe(128 + 10);
  });

  it('makes the job the terminal’s foreground group and sets its CPU-time limit', async () => {
    const script = 'read a b c d pg e f tp rest < /proc/self/stat; [ "$pg" = "$tp" ] && echo foreground; ulimit -t; ulimit -Ht';
    const { now, before } = await both({ args: ['sh', '-c', script], terminal: true }, { cpuSeconds: 2.5 });
    expect(now).toEqual(before);
    expect(now.lines.map((l) => l.trim())).toEqual(['foreground', '4', '4']);
  });

  it("runs new tasks from host root's execute-only copy and restores from the task root's (both 0711)", async () => {
    const mountOf = async (t: Task) => {
      const spec = JSON.parse(await fs.readFile(path.join(t.info.bundle, 'config.json'), 'utf8')) as { mounts: { destination: string; source: string }[] };
      return spec.mounts.find((m) => m.destination === STARTER_PATHS.program)!.source;
    };
    const t = await runSh(pair.h, 'sleep 600');
    const start = await mountOf(t);
    expect(path.dirname(start)).toBe(path.join(pair.h.stateDir, 'start'));
    expect(await fs.stat(start)).toMatchObject({ uid: 0, gid: 0, mode: 0o100711 });
    // No process of the task can read it (nor, so, write into pid 1 before its filter is loaded).
    const cat = await t.exec(uid('cat'), { args: ['sh', '-c', `cat ${STARTER_PATHS.program} > /dev/null`] });
    await cat.start();
    expect((await cat.wait()).status).not.toBe(0);
    expect((await logText(cat)).join('\n')).toContain('Permission denied');
    const r = await restoredOn(t, pair.h, ckRoot());
    const restore = await mountOf(r);
    expect(await fs.stat(restore)).toMatchObject({ uid: DEFAULT_USERNS.hostId, gid: DEFAULT_USERNS.hostId, mode: 0o100711 });
    expect(await fs.readFile(restore)).toEqual(await fs.readFile(start));
    expect((await r.state()).status).toBe('running');
  });

  it('checkpoints and restores a task under the native start; images restore only where their pid 1 is', async () => {
    const proc = { args: ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo $i > /tmp/n; sleep 0.05; done'] };
    const t = await pair.h.tm.create({ id: uid(), rootfs: pair.h.rootfs, process: proc });
    await t.start();
    const r = await restoredOn(t, pair.h, ckRoot());
    expect(r.info.spec.process!.args[0]).toBe(STARTER_PATHS.program);
    const n = async () => Number((await r.exec(uid('n'), { args: ['cat', '/tmp/n'] }).then(async (e) => (await e.start(), await e.wait(), await logText(e))))[0]);
    const first = await n();
    await until(async () => (await n()) > first, 10_000, 'the restored loop counting on');
    await r.kill('TERM');
    expect(await r.wait()).toMatchObject({ status: 143 });
    // An image under the native start needs it on the restoring node; one under tini restores anywhere.
    const again = await pair.h.tm.create({ id: uid(), rootfs: pair.h.rootfs, process: proc });
    await again.start();
    await expectImageRefused(again, pair.old, ckRoot(), 'native start');
    const tini = await pair.old.tm.create({ id: uid(), rootfs: pair.old.rootfs, process: proc });
    await tini.start();
    const back = await restoredOn(tini, pair.h, ckRoot());
    expect(back.info.spec.process!.args).not.toContain(STARTER_PATHS.program);
    expect((await back.state()).status).toBe('running');
  });
});
