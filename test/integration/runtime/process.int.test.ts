import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import { cleanupTasks, closeHarness, logText, openHarness, runSh, uid, until, type Harness } from './harness.js';

describeWithHost(['runc', 'conmon', 'root', 'busybox'], 'task processes, resources and stdio', () => {
  let h: Harness;
  beforeAll(async () => void (h = await openHarness('proc')));
  afterEach(() => cleanupTasks(h));
  afterAll(() => closeHarness(h));

  it('exec() runs a process with its own id, exit code, output and delete', async () => {
    const t = await runSh(h, 'sleep 300');
    const e = await t.exec('e1', { args: ['sh', '-c', 'echo exec-out; echo exec-err >&2; exit 5'], env: ['PATH=/bin', 'FOO=bar'] });
    expect(e.id).toBe('e1');
    expect((await e.state()).status).toBe('created');
    await e.start();
    const exit = await e.wait();
    expect(exit).toMatchObject({ status: 5, reason: 'exited' });
    expect((await e.state()).status).toBe('stopped');
    expect(await logText(e)).toEqual(['exec-out', 'exec-err']);
    const again = await t.process('e1');
    expect((await again.state()).exitStatus).toBe(5);
    await expect(t.exec('e1', { args: ['true'] })).rejects.toMatchObject({ code: 'ERR_ALREADY_EXISTS' });
    expect(await again.delete()).toMatchObject({ status: 5 });
    await expect(t.process('e1')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    expect((await t.state()).status).toBe('running');
  });

  it('an exec process can be killed by its pid and shows up in pids() with its exec id', async () => {
    const t = await runSh(h, 'sleep 300');
    const e = await t.exec('sleeper', { args: ['sleep', '300'] });
    await e.start();
    const pids = await t.pids();
    const mine = pids.find((p) => p.info.execId === 'sleeper');
    expect(mine?.info.args).toEqual(['sleep', '300']);
    await expect(e.delete()).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION' });
    await e.kill('SIGTERM');
    expect(await e.wait()).toMatchObject({ status: 143, signal: 'SIGTERM' });
    await e.delete();
  });

  it('exec into a paused task fails with a clear precondition error', async () => {
    const t = await runSh(h, 'sleep 300');
    await t.pause();
    await expect(t.exec('e2', { args: ['true'] })).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION', message: expect.stringContaining('resume it first') });
    await t.resume();
  });

  it('pids() lists the task processes with details from /proc', async () => {
    const t = await runSh(h, 'sleep 300 & wait');
    const pids = await until(async () => {
      const p = await t.pids();
      return p.length >= 2 ? p : undefined;
    });
    const init = pids.find((p) => p.pid === 0 || p.info.comm === 'sh');
    const sleep = pids.find((p) => p.info.comm === 'sleep');
    expect(init?.info.args).toEqual(['sh', '-c', 'sleep 300 & wait']);
    expect(sleep?.info).toMatchObject({ args: ['sleep', '300'], ppid: init?.pid, state: 'S' });
    expect(sleep!.info.rssBytes).toBeGreaterThan(0);
    expect(sleep!.info.cpuMs).toBeGreaterThanOrEqual(0);
  });

  it('stats() reads cpu, memory and pids from the cgroup', async () => {
    const t = await runSh(h, 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 300', { limits: { memoryBytes: 64 << 20, pids: 40 } });
    const s = await until(async () => {
      const x = await t.stats();
      return x.cpu.usageNs > 0 ? x : undefined;
    });
    expect(s.id).toBe(t.id);
    expect(s.memory.limitBytes).toBe(64 << 20);
    expect(s.memory.usageBytes).toBeGreaterThan(0);
    expect(s.pids).toMatchObject({ limit: 40 });
    expect(s.pids.current).toBeGreaterThanOrEqual(1);
  });

  it('update() changes memory and pids limits (visible in stats) and persists annotations', async () => {
    const t = await runSh(h, 'sleep 300', { limits: { memoryBytes: 64 << 20 } });
    await t.update({ memoryBytes: 32 << 20, pids: 20, cpus: 0.5 }, { owner: 'test' });
    const s = await t.stats();
    expect(s.memory.limitBytes).toBe(32 << 20);
    expect(s.pids.limit).toBe(20);
    const again = await h.tm.get(t.id);
    expect(again.info.annotations).toMatchObject({ owner: 'test' });
    expect((again.info.spec.linux as { resources: { pids: { limit: number } } }).resources.pids.limit).toBe(20);
    await expect(t.update({ pids: -1 })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('writeStdin() feeds the task and closeIO() ends its input', async () => {
    const t = await h.tm.create({ id: uid(), rootfs: h.rootfs, stdin: true, process: { args: ['sh', '-c', 'while read l; do echo got $l; done; echo eof; exit 7'] } });
    await t.start();
    await t.writeStdin('one\ntwo\n');
    await until(async () => (await logText(t)).includes('got two'), 10_000, 'echoed input');
    await t.closeIO();
    expect((await t.wait()).status).toBe(7);
    expect(await logText(t)).toEqual(['got one', 'got two', 'eof']);
  });

  it('stdin operations on a task without stdin fail with ERR_FAILED_PRECONDITION', async () => {
    const t = await runSh(h, 'sleep 300');
    await expect(t.writeStdin('x')).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION' });
    await expect(t.resizePty({ width: 80, height: 24 })).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION' });
  });

  it('resizePty() resizes the terminal of a tty task', async () => {
    const t = await h.tm.create({
      id: uid(),
      rootfs: h.rootfs,
      process: { args: ['sh', '-c', 'while true; do stty size; sleep 0.2; done'], terminal: true },
    });
    await t.start();
    expect((await t.state()).terminal).toBe(true);
    await t.resizePty({ width: 100, height: 30 });
    await until(async () => (await logText(t)).some((l) => l.includes('30 100')), 10_000, 'stty size 30 100');
  });

  it('an exec process takes stdin and a terminal of its own', async () => {
    const t = await runSh(h, 'sleep 300');
    const e = await t.exec('reader', { args: ['sh', '-c', 'read a; echo exec got $a; exit 4'], stdin: true });
    await e.start();
    await e.writeStdin('hello\n');
    expect(await e.wait()).toMatchObject({ status: 4 });
    expect(await logText(e)).toEqual(['exec got hello']);
    const tty = await t.exec('tty', { args: ['sh', '-c', 'sleep 0.5; stty size; exit 0'], terminal: true });
    await tty.start();
    expect((await tty.state()).terminal).toBe(true);
    await tty.resizePty({ width: 91, height: 21 });
    expect((await tty.wait()).status).toBe(0);
    expect((await logText(tty)).join('')).toContain('21 91');
    await expect(e.writeStdin('late')).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION' });
  });

  it('works with the longest ids under a long state dir (attach socket path beyond sun_path)', async () => {
    const long = await openHarness('long-' + 'x'.repeat(40));
    try {
      const id = `${uid()}-${'y'.repeat(53)}`.slice(0, 64);
      const t = await long.tm.create({ id, namespace: 'n'.repeat(64), rootfs: long.rootfs, stdin: true, process: { args: ['sh', '-c', 'read a; echo got $a'] } });
      expect(path.join(t.info.bundle, 'attach').length).toBeGreaterThan(108);
      await t.start();
      await t.writeStdin('long\n');
      expect((await t.wait()).status).toBe(0);
      expect(await logText(t)).toEqual(['got long']);
    } finally {
      await closeHarness(long);
    }
  });
});
