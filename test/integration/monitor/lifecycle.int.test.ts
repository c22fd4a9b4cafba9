import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { monitorAlive, readExit, waitExit } from '../../../src/monitor/exit-file.js';
import { readLog } from '../../../src/monitor/log.js';
import { describeWithHost } from '../../helpers/host.js';
import { MonitorFixture, ppidOf, until } from './fixture.js';

describeWithHost(['root', 'runc', 'conmon', 'busybox'], 'conmon monitor lifecycle', () => {
  let f: MonitorFixture;
  beforeAll(async () => {
    f = await MonitorFixture.create();
  });
  afterAll(async () => {
    await f?.cleanup();
  });

  async function started(args: string[], extra: { memoryBytes?: number; timeoutSeconds?: number } = {}) {
    const id = f.id();
    const bundle = await f.bundle(id, { args, memoryBytes: extra.memoryBytes });
    const runDir = await f.runDir(id);
    const launched = await f.launch({ containerId: id, bundle, runDir, timeoutSeconds: extra.timeoutSeconds });
    expect((await f.runc.state(id))?.status).toBe('created');
    await f.runc.start(id);
    return { id, bundle, runDir, ...launched };
  }

  it('records the exit status and ExitedAt of a container created by conmon and started with runc', async () => {
    const before = Date.now();
    const t = await started(['sh', '-c', 'echo out; echo err >&2; exit 42']);
    expect(await readExit(t.runDir).then((x) => x === null || x.status === 42)).toBe(true);
    const exit = await waitExit(t.runDir);
    expect(exit).toMatchObject({ status: 42, oom: false, timedOut: false });
    const at = Date.parse(exit.exitedAt);
    expect(at).toBeGreaterThanOrEqual(before - 1000);
    expect(at).toBeLessThanOrEqual(Date.now() + 1000);
    const st = await fs.stat(path.join(t.runDir, 'exit'));
    expect(exit.exitedAt).toBe(st.mtime.toISOString());
    // conmon writes its exit-dir file right after the `exit` file waitExit watches (CI once read between the two).
    const exitsFile = await until(() => fs.readFile(path.join(t.runDir, 'exits', t.id), 'utf8').catch(() => undefined), 5000, 'the exit-dir file');
    expect(exitsFile.trim()).toBe('42');
    expect((await f.runc.state(t.id))?.status).toBe('stopped');
    await until(async () => !(await monitorAlive(t.runDir)), 5000, 'conmon to exit');
  });

  it('makes conmon, not Node, the parent of the container, and conmon a session leader under PID 1', async () => {
    const t = await started(['sleep', '30']);
    expect(await ppidOf(t.pid)).toBe(t.conmonPid);
    expect(t.conmonPid).not.toBe(process.pid);
    const conmonStat = (await fs.readFile(`/proc/${t.conmonPid}/stat`, 'utf8')).split(') ')[1]!.split(' ');
    expect(parseInt(conmonStat[1]!, 10)).not.toBe(process.pid); // ppid
    expect(parseInt(conmonStat[3]!, 10)).toBe(t.conmonPid); // session id
    expect(await monitorAlive(t.runDir)).toBe(true);
    expect(parseInt(await fs.readFile(path.join(t.runDir, 'pidfile'), 'utf8'), 10)).toBe(t.pid);
    await f.runc.kill(t.id, 'KILL');
    expect((await waitExit(t.runDir)).status).toBe(137);
  });

  it('reports 137 for a process killed with SIGKILL', async () => {
    const t = await started(['sleep', '30']);
    await f.runc.kill(t.id, 'SIGKILL');
    const exit = await waitExit(t.runDir);
    expect(exit).toMatchObject({ status: 137, oom: false, timedOut: false });
  });

  it('marks an OOM kill inside the memory limit with the oom file', async () => {
    const t = await started(['sh', '-c', 'x=a; while true; do x=$x$x; done'], { memoryBytes: 16 * 1024 * 1024 });
    const exit = await waitExit(t.runDir);
    expect(exit.oom).toBe(true);
    expect(exit.status).toBe(137);
  });

  it('kills the container after conmon -T and reports a timeout as status 137', async () => {
    const t = await started(['sleep', '30'], { timeoutSeconds: 1 });
    const exit = await waitExit(t.runDir);
    expect(exit).toMatchObject({ status: 137, timedOut: true });
    expect((await fs.readFile(path.join(t.runDir, 'exit'), 'utf8')).trim()).toBe('-1');
  });

  it('parses stdout and stderr lines from the k8s-file log, and follows it until the exit', async () => {
    const t = await started(['sh', '-c', 'echo one; echo two >&2; sleep 1; echo "three  spaced"; exit 0']);
    const entries: { stream: string; data: string; offset: number }[] = [];
    const isDone = async () => (await readExit(t.runDir)) !== null;
    for await (const e of readLog(path.join(t.runDir, 'ctr.log'), { follow: true, isDone })) entries.push(e);
    expect(entries.map((e) => [e.stream, e.data])).toEqual([
      ['stdout', 'one'],
      ['stderr', 'two'],
      ['stdout', 'three  spaced'],
    ]);
    const rest: string[] = [];
    for await (const e of readLog(path.join(t.runDir, 'ctr.log'), { fromOffset: entries[1]!.offset })) rest.push(e.data);
    expect(rest).toEqual(['three  spaced']);
  });

  it('stops following the log when the signal aborts', async () => {
    const t = await started(['sh', '-c', 'while :; do echo tick; sleep 0.2; done']);
    const ac = new AbortController();
    let n = 0;
    for await (const e of readLog(path.join(t.runDir, 'ctr.log'), { follow: true, signal: ac.signal })) {
      expect(e.data).toBe('tick');
      if (++n === 3) ac.abort();
    }
    expect(n).toBe(3);
    await expect(waitExit(t.runDir, AbortSignal.timeout(50))).rejects.toMatchObject({ code: 'ERR_UNAVAILABLE' });
    await f.runc.kill(t.id, 'KILL');
    await waitExit(t.runDir);
  });

  it('calls onSpawn with the conmon pid before releasing it, so it can be moved into a monitor cgroup', async () => {
    const cg = '/sys/fs/cgroup/pids/stasis-monitor-it-conmons';
    await fs.mkdir(cg, { recursive: true });
    try {
      const id = f.id();
      const bundle = await f.bundle(id, { args: ['sleep', '30'] });
      const runDir = await f.runDir(id);
      let spawned = 0;
      const r = await f.launch({
        containerId: id, bundle, runDir,
        onSpawn: async (pid) => {
          spawned = pid;
          await fs.writeFile(path.join(cg, 'cgroup.procs'), String(pid));
        },
      });
      expect(spawned).toBeGreaterThan(0);
      expect(await fs.readFile(`/proc/${r.conmonPid}/cgroup`, 'utf8')).toMatch(/pids:\/stasis-monitor-it-conmons$/m);
      await f.runc.start(id);
      await f.runc.kill(id, 'KILL');
      await waitExit(runDir);
      await until(async () => !(await monitorAlive(runDir)), 5000, 'conmon to exit');
    } finally {
      await until(async () => fs.rmdir(cg).then(() => true, () => false), 5000, 'monitor cgroup to empty').catch(() => undefined);
    }
  });

  it('keeps tailing across --log-size-max truncation', async () => {
    const id = f.id();
    const bundle = await f.bundle(id, { args: ['sh', '-c', 'i=0; while [ $i -lt 400 ]; do echo line-$i; i=$((i+1)); done; sleep 0.5; echo last'] });
    const runDir = await f.runDir(id);
    await f.launch({ containerId: id, bundle, runDir, logMaxBytes: 4096 });
    const seen: string[] = [];
    const reading = (async () => {
      const isDone = async () => (await readExit(runDir)) !== null;
      for await (const e of readLog(path.join(runDir, 'ctr.log'), { follow: true, isDone, pollMs: 20 })) seen.push(e.data);
    })();
    await f.runc.start(id);
    await waitExit(runDir);
    await reading;
    expect(seen.at(-1)).toBe('last');
    expect((await fs.stat(path.join(runDir, 'ctr.log'))).size).toBeLessThanOrEqual(4096 + 200);
  });

  it('runs an exec process under its own conmon with its own exit code and log', async () => {
    const t = await started(['sleep', '30']);
    const execDir = await f.runDir(`${t.id}-exec-e1`);
    const spec = {
      args: ['sh', '-c', 'echo exec-out; echo exec-err >&2; exit 4'],
      cwd: '/', env: ['PATH=/bin'], terminal: false, user: { uid: 0, gid: 0 },
    };
    await fs.writeFile(path.join(execDir, 'process.json'), JSON.stringify(spec));
    const r = await f.launch({ containerId: t.id, bundle: execDir, runDir: execDir, exec: { processSpecPath: path.join(execDir, 'process.json') } });
    expect(r.pid).toBeGreaterThan(0);
    const exit = await waitExit(execDir);
    expect(exit.status).toBe(4);
    const lines: string[] = [];
    for await (const e of readLog(path.join(execDir, 'ctr.log'))) lines.push(`${e.stream}:${e.data}`);
    expect(lines).toEqual(['stdout:exec-out', 'stderr:exec-err']);
    expect((await f.runc.state(t.id))?.status).toBe('running');
    await f.runc.kill(t.id, 'KILL');
    expect((await waitExit(t.runDir)).status).toBe(137);
  });

  it('fails an exec of a missing binary with runc error line', async () => {
    const t = await started(['sleep', '30']);
    const execDir = await f.runDir(`${t.id}-exec-bad`);
    await fs.writeFile(path.join(execDir, 'process.json'), JSON.stringify({ args: ['/nope'], cwd: '/', env: ['PATH=/bin'], user: { uid: 0, gid: 0 } }));
    const err = await f
      .launch({ containerId: t.id, bundle: execDir, runDir: execDir, exec: { processSpecPath: path.join(execDir, 'process.json') } })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_RUNTIME' });
    expect((err as Error).message).toMatch(new RegExp(`^runc exec ${t.id}: .*nope`));
    await f.runc.kill(t.id, 'KILL');
  });

  it('fails a create with runc error line in the message and details', async () => {
    const id = f.id();
    const bundle = await f.bundle(id, { args: ['/does-not-exist'] });
    const runDir = await f.runDir(id);
    const err = await f.launch({ containerId: id, bundle, runDir }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_RUNTIME' });
    const e = err as { message: string; details: { runtimeError: string; argv: string[] } };
    expect(e.message).toMatch(new RegExp(`^runc create ${id}: .*does-not-exist`));
    expect(e.details.runtimeError).toMatch(/does-not-exist/);
    expect(e.details.argv[0]).toMatch(/conmon$/);
    expect(await readExit(runDir)).toBeNull();
  });

  it('refuses to launch a second monitor into a run dir whose monitor is alive', async () => {
    const t = await started(['sleep', '30']);
    await expect(f.launch({ containerId: t.id, bundle: t.bundle, runDir: t.runDir })).rejects.toMatchObject({ code: 'ERR_ALREADY_EXISTS' });
    await f.runc.kill(t.id, 'KILL');
    await waitExit(t.runDir);
  });

  it('rejects waitExit when the monitor died without recording an exit', async () => {
    const t = await started(['sleep', '30']);
    process.kill(t.conmonPid, 'SIGKILL');
    await expect(waitExit(t.runDir, undefined, { pollMs: 100 })).rejects.toMatchObject({ code: 'ERR_UNAVAILABLE', details: { monitorLost: true } });
    await f.runc.kill(t.id, 'KILL');
  });
});
