import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSpawnHelper, runCommand, useSpawnHelper } from '../../../src/os/command.js';
import { SpawnHelperClient } from '../../../src/os/spawn-helper-client.js';
import { readExit, waitExit } from '../../../src/monitor/exit-file.js';
import { describeWithHost } from '../../helpers/host.js';
import { MonitorFixture, until } from '../monitor/fixture.js';

const ENTRY = path.resolve('dist/workers/spawn-helper.js');

/** The helper processes of this test process (children running the helper entry). */
async function helperPids(): Promise<number[]> {
  const out: number[] = [];
  for (const d of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const stat = await fs.readFile(`/proc/${d}/stat`, 'utf8').catch(() => '');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const cmd = await fs.readFile(`/proc/${d}/cmdline`, 'utf8').catch(() => '');
    if (ppid === process.pid && cmd.includes('spawn-helper')) out.push(Number(d));
  }
  return out;
}

// Both ways the helper spawns: posix_spawn through the addon (built in CI), and child_process.
describe.each([
  ['posix_spawn', undefined],
  ['child_process', '0'],
])('the spawn helper runs commands for its thread (%s)', (_how, nativeSpawn) => {
  let client: SpawnHelperClient;
  const saved = process.env.STASIS_NATIVE_SPAWN;
  beforeAll(async () => {
    await fs.access(ENTRY); // `npm test` builds first
    // The helper takes the setting from the environment it is forked with (at the first request).
    if (nativeSpawn === undefined) delete process.env.STASIS_NATIVE_SPAWN;
    else process.env.STASIS_NATIVE_SPAWN = nativeSpawn;
    client = new SpawnHelperClient(ENTRY);
    await client.run({ file: 'true', args: [] });
    if (saved === undefined) delete process.env.STASIS_NATIVE_SPAWN;
    else process.env.STASIS_NATIVE_SPAWN = saved;
  });
  afterAll(() => client?.close());

  it('returns stdout, stderr and the exit status, and feeds stdin', async () => {
    const r = await client.run({ file: 'sh', args: ['-c', 'cat; echo oops >&2; exit 3'], input: 'from stdin' });
    expect(r).toMatchObject({ stdout: 'from stdin', stderr: 'oops\n', exitCode: 3, signal: null, timedOut: false });
    expect(r.error).toBeUndefined();
  });

  it('runs commands side by side and answers each by its id', async () => {
    const rs = await Promise.all([3, 1, 2].map((n) => client.run({ file: 'sh', args: ['-c', `sleep 0.${n}; echo ${n}`] })));
    expect(rs.map((r) => r.stdout)).toEqual(['3\n', '1\n', '2\n']);
  });

  it('kills a command at its timeout and says so', async () => {
    const r = await client.run({ file: 'sleep', args: ['10'], timeoutMs: 100 });
    expect(r).toMatchObject({ timedOut: true, signal: 'SIGKILL', exitCode: null });
  });

  it('says why a command could not start', async () => {
    const r = await client.run({ file: '/nonexistent/tool', args: [] });
    expect(r.exitCode).toBeNull();
    expect(r.error).toMatch(/ENOENT/);
  });

  it('fails the command in flight when the helper dies, and forks a new helper for the next', async () => {
    const pending = client.run({ file: 'sleep', args: ['10'] });
    const [pid] = await until(async () => {
      const pids = await helperPids();
      return pids.length > 0 ? pids : null;
    }, 5000, 'the helper');
    process.kill(pid!, 'SIGKILL');
    expect((await pending).error).toMatch(/spawn helper exited/);
    expect((await client.run({ file: 'echo', args: ['again'] })).stdout).toBe('again\n');
  });

  // A stand-in for conmon's pipe protocol: wait for the start byte, fork, the child writes the sync line.
  // With `started`, it creates that file once past its start pipe.
  const fakeMonitor = (syncTimeoutMs: number, started = '/dev/null') => ({
    file: 'sh',
    args: ['-c', 'head -c1 <&4 >/dev/null; : > "$STARTED"; (echo \'{"data": 42}\' >&3) & exit 0'],
    env: { STARTED: started },
    cwd: '/',
    syncTimeoutMs,
  });

  it('times a launch\'s sync line from its start, not its spawn (a monitor kept ready waits long)', async () => {
    let pid = 0;
    const r = await client.launch(
      fakeMonitor(200),
      async (p) => {
        pid = p;
        await new Promise((resolve) => setTimeout(resolve, 500));
      },
      true,
    );
    expect(pid).toBeGreaterThan(0);
    expect(r).toMatchObject({ exitCode: 0, syncLine: '{"data": 42}', syncTimedOut: false });
  });

  it('kills a monitor still waiting for its start when its thread lets it go', async () => {
    const c = new SpawnHelperClient(ENTRY);
    let spawned!: (pid: number) => void;
    const pid = new Promise<number>((resolve) => (spawned = resolve));
    const started = path.join(os.tmpdir(), `stasis-standby-${process.pid}-${Date.now()}`);
    const launch = c.launch(fakeMonitor(5000, started), (p) => {
      spawned(p);
      return new Promise<void>(() => undefined); // never started
    }, true);
    const monitor = await pid;
    expect(await fs.access(`/proc/${monitor}/stat`).then(() => true, () => false)).toBe(true);
    c.close();
    expect((await launch).error).toMatch(/spawn helper exited/);
    // Killed, not started by the start pipe's EOF: it wrote no sync line and forked nothing.
    await until(async () => !(await fs.access(`/proc/${monitor}/stat`).then(() => true, () => false)) || null, 5000, 'the monitor to be gone');
    expect(await fs.access(started).then(() => true, () => false)).toBe(false);
  });

  it('exits when its thread lets it go', async () => {
    const c = new SpawnHelperClient(ENTRY);
    const before = new Set(await helperPids());
    await c.run({ file: 'true', args: [] });
    const mine = (await helperPids()).filter((p) => !before.has(p));
    expect(mine).toHaveLength(1);
    c.close();
    await until(async () => !(await fs.access(`/proc/${mine[0]}/stat`).then(() => true, () => false)) || null, 5000, 'the helper to exit');
  });

  it('starts before the first request when asked to, and serves that request with the same process', async () => {
    const c = new SpawnHelperClient(ENTRY);
    const before = new Set(await helperPids());
    c.start();
    const mine = (await helperPids()).filter((p) => !before.has(p));
    expect(mine).toHaveLength(1);
    const r = await c.run({ file: 'sh', args: ['-c', 'echo $PPID'] });
    expect(Number(r.stdout.trim())).toBe(mine[0]);
    expect((await helperPids()).filter((p) => !before.has(p))).toEqual(mine);
    c.close();
    await until(async () => !(await fs.access(`/proc/${mine[0]}/stat`).then(() => true, () => false)) || null, 5000, 'the helper to exit');
  });
});

describeWithHost(['root', 'runc', 'conmon', 'busybox'], 'conmon started through the spawn helper', () => {
  let f: MonitorFixture;
  beforeAll(async () => {
    f = await MonitorFixture.create();
    useSpawnHelper({ entry: ENTRY, env: {} });
  });
  afterAll(async () => {
    closeSpawnHelper();
    await f?.cleanup();
  });

  it('creates a container whose exit conmon records, and hands onSpawn the first conmon pid', async () => {
    const id = f.id();
    const bundle = await f.bundle(id, { args: ['sh', '-c', 'exit 7'] });
    const runDir = await f.runDir(id);
    let spawned = 0;
    const r = await f.launch({ containerId: id, bundle, runDir, onSpawn: (pid) => void (spawned = pid) });
    expect(spawned).toBeGreaterThan(0);
    expect(spawned).not.toBe(r.conmonPid); // conmon double-forks; the daemon is another process
    expect((await f.runc.state(id))?.status).toBe('created');
    await f.runc.start(id); // `runc start` goes through the helper too
    await waitExit(runDir);
    expect((await readExit(runDir))?.status).toBe(7);
  });

  it('carries runc\'s own error line when the create fails', async () => {
    const id = f.id();
    const bundle = await f.bundle(id, { args: ['/no/such/binary'] });
    const runDir = await f.runDir(id);
    await expect(f.launch({ containerId: id, bundle, runDir })).rejects.toMatchObject({ code: 'ERR_RUNTIME', message: expect.stringMatching(/no such file|not found/i) });
  });

  it('routes runCommand through the helper', async () => {
    const r = await runCommand('sh', ['-c', 'echo $PPID']);
    expect(await helperPids()).toContain(Number(r.stdout.trim()));
  });
});
