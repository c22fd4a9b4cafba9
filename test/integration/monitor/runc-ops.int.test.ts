import { afterAll, beforeAll, expect, it } from 'vitest';
import fs from 'node:fs/promises';
import { waitExit } from '../../../src/monitor/exit-file.js';
import { describeWithHost } from '../../helpers/host.js';
import { MonitorFixture, RUNC, until } from './fixture.js';

describeWithHost(['root', 'runc', 'conmon', 'busybox'], 'runc operations on a conmon-monitored container', () => {
  let f: MonitorFixture;
  beforeAll(async () => {
    f = await MonitorFixture.create();
  });
  afterAll(async () => {
    await f?.cleanup();
  });

  async function running(args = ['sleep', '300']) {
    const id = f.id();
    const bundle = await f.bundle(id, { args });
    const runDir = await f.runDir(id);
    const r = await f.launch({ containerId: id, bundle, runDir });
    await f.runc.start(id);
    return { id, bundle, runDir, ...r };
  }

  it('state and list report the container; state is null for an unknown id', async () => {
    const t = await running();
    expect(await f.runc.state(t.id)).toMatchObject({ id: t.id, pid: t.pid, status: 'running', bundle: t.bundle });
    expect((await f.runc.list()).map((s) => s.id)).toContain(t.id);
    expect(await f.runc.state('t-does-not-exist')).toBeNull();
    await f.runc.kill(t.id, 'KILL');
    await waitExit(t.runDir);
  });

  it('ps lists the init and exec pids; runc exec returns the exit code and output', async () => {
    const t = await running();
    expect(await f.runc.ps(t.id)).toEqual([t.pid]);
    const r = await f.runc.exec(t.id, ['sh', '-c', 'echo in-exec $FOO $(pwd); exit 5'], { env: ['FOO=bar'], cwd: '/tmp' });
    expect(r).toMatchObject({ exitCode: 5, stdout: 'in-exec bar /tmp\n' });
    await f.runc.kill(t.id, 'KILL');
    await waitExit(t.runDir);
  });

  it('stats returns the cgroup data object; update changes the limits it reports', async () => {
    const t = await running();
    const before = (await f.runc.stats(t.id)) as { cpu: unknown; memory: unknown; pids: { current: number } };
    expect(before.cpu).toBeTruthy();
    expect(before.memory).toBeTruthy();
    expect(before.pids.current).toBeGreaterThanOrEqual(1);
    await f.runc.update(t.id, { memory: { limit: 64 * 1024 * 1024, swap: 64 * 1024 * 1024 }, pids: { limit: 20 }, cpu: { quota: 50000, period: 100000 } });
    const after = (await f.runc.stats(t.id)) as { memory: { usage: { limit: number } }; pids: { limit: number } };
    expect(after.memory.usage.limit).toBe(64 * 1024 * 1024);
    expect(after.pids.limit).toBe(20);
    const quota = await fs.readFile(`/sys/fs/cgroup/cpu/stasis-monitor-it/${t.id}/cpu.cfs_quota_us`, 'utf8');
    expect(quota.trim()).toBe('50000');
    await f.runc.kill(t.id, 'KILL');
    await waitExit(t.runDir);
  });

  it('pause freezes and resume thaws; pausing twice is a failed precondition', async () => {
    const t = await running(['sh', '-c', 'while :; do echo tick; sleep 0.1; done']);
    await f.runc.pause(t.id);
    expect((await f.runc.state(t.id))?.status).toBe('paused');
    await expect(f.runc.pause(t.id)).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION' });
    expect(await f.runc.stats(t.id)).toBeTruthy();
    await f.runc.resume(t.id);
    expect((await f.runc.state(t.id))?.status).toBe('running');
    await f.runc.kill(t.id, 'KILL', true);
    expect((await waitExit(t.runDir)).status).toBe(137);
  });

  it('kill with TERM to a shell with a trap delivers the signal', async () => {
    const t = await running(['sh', '-c', 'trap "exit 7" TERM; while :; do sleep 0.1; done']);
    await until(async () => (await fs.readFile(`/proc/${t.pid}/status`, 'utf8')).match(/SigCgt:\s*0*[1-9a-f]/), 5000, 'trap installed');
    await f.runc.kill(t.id, 'TERM');
    expect((await waitExit(t.runDir)).status).toBe(7);
  });

  it('operations on a missing container fail with ERR_NOT_FOUND and runc error line', async () => {
    const id = 't-missing-0000';
    for (const op of [() => f.runc.kill(id, 'KILL'), () => f.runc.pause(id), () => f.runc.resume(id), () => f.runc.ps(id), () => f.runc.stats(id), () => f.runc.start(id)]) {
      const e = await op().catch((x: unknown) => x);
      expect(e).toMatchObject({ code: 'ERR_NOT_FOUND', details: { runtimeError: 'container does not exist', exitCode: 1 } });
      expect((e as Error).message).toMatch(new RegExp(`^runc \\w+ ${id}: container does not exist$`));
    }
    await expect(f.runc.delete(id)).resolves.toBeUndefined();
    await expect(f.runc.kill('x', 'NOPE')).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('delete refuses a running container without force and removes it with force', async () => {
    const t = await running();
    await expect(f.runc.delete(t.id)).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION' });
    await f.runc.delete(t.id, true);
    expect(await f.runc.state(t.id)).toBeNull();
    expect((await waitExit(t.runDir)).status).toBe(137);
  });

  it('a missing runc binary is ERR_UNAVAILABLE', async () => {
    const { Runc } = await import('../../../src/runc/runc.js');
    const r = new Runc({ binary: '/nonexistent/runc', root: f.runc.opts.root });
    await expect(r.list()).rejects.toMatchObject({ code: 'ERR_UNAVAILABLE' });
  });

  it('a runc call that hangs past timeoutMs is killed and fails with ERR_UNAVAILABLE', async () => {
    const { Runc } = await import('../../../src/runc/runc.js');
    const slow = `${f.base}/slow-runc`;
    await fs.writeFile(slow, '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
    const r = new Runc({ binary: slow, root: f.runc.opts.root, timeoutMs: 200 });
    const e = await r.state('x').catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'ERR_UNAVAILABLE' });
    expect((e as Error).message).toBe('runc state x timed out after 200 ms');
  });

  it('state, start and delete read runc\'s state dir only for a runc version they follow; any other gets the real runc', async () => {
    const { Runc } = await import('../../../src/runc/runc.js');
    const calls = `${f.base}/calls.log`;
    const wrapper = async (name: string, version: string) => {
      const bin = `${f.base}/${name}`;
      const script = `#!/bin/sh\nif [ "$1" = --version ]; then echo "runc version ${version}"; exit 0; fi\necho "$@" >> ${calls}\nexec ${RUNC} "$@"\n`;
      await fs.writeFile(bin, script, { mode: 0o755 });
      return bin;
    };
    const t = await running();
    const spawned = async () => (await fs.readFile(calls, 'utf8').catch(() => '')).split('\n').filter((l) => / state /.test(l)).length;
    const known = new Runc({ binary: await wrapper('runc-1.1', '1.1.9'), root: f.runc.opts.root });
    expect((await known.state(t.id))?.status).toBe('running');
    expect(await spawned()).toBe(0); // read from state.json
    const other = new Runc({ binary: await wrapper('runc-1.2', '1.2.0'), root: f.runc.opts.root });
    expect((await other.state(t.id))?.status).toBe('running');
    expect(await spawned()).toBe(1); // asked runc itself
  });
});
