import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import { testRootfs } from '../../helpers/rootfs.js';
import { CLI, closeCli, counts, openCli, uid, until, type CliHarness } from './cli.js';

const COUNTER = 'i=0; while true; do echo "$GREETING count $i"; echo "err $i" >&2; i=$((i+1)); sleep 0.2; done';

interface TaskJson {
  id: string;
  status: string;
  pid: number;
  exitStatus: number | null;
  exitedAt: string | null;
  signal: string | null;
  reason: string | null;
}

describeWithHost(['runc', 'conmon', 'criu', 'root', 'busybox'], 'stasis task (built CLI, one process per command)', () => {
  let h: CliHarness;
  beforeAll(async () => {
    h = await openCli('task');
  });
  afterAll(() => closeCli(h));

  const state = (id: string) => h.json<TaskJson>(['task', 'state', id]);

  it('runs a task through its whole lifecycle, each step a new process that re-opens it from disk', { timeout: 180_000 }, async () => {
    const id = uid('c');
    // create (default busybox rootfs, built on demand under the state dir) and start
    const created = await h.run(['task', 'create', '--id', id, '--memory', '64m', '--pids', '64', '--env', 'GREETING=hi', '--', 'sh', '-c', COUNTER]);
    expect(created, created.stderr).toMatchObject({ exitCode: 0, stdout: `${id}\n` });
    await expect(fs.access(path.join(h.stateDir, 'rootfs', 'busybox', 'bin', 'busybox'))).resolves.toBeUndefined();
    expect((await state(id)).status).toBe('created');
    expect((await h.run(['task', 'start', id])).exitCode).toBe(0);
    const running = await state(id);
    expect(running).toMatchObject({ id, status: 'running', exitStatus: null });
    expect(running.pid).toBeGreaterThan(0);

    // list: human table and JSON
    const table = await h.run(['task', 'list']);
    expect(table.stdout).toMatch(new RegExp(`^ID\\s+STATUS\\s+PID\\s+EXIT\\s+CREATED\\n${id}\\s+running\\s+${running.pid}\\s`));
    expect((await h.json<TaskJson[]>(['task', 'list'])).map((t) => t.id)).toEqual([id]);

    // logs: stdout lines on stdout, stderr lines on stderr
    await until(async () => counts((await h.run(['task', 'logs', id])).stdout).length >= 3, 15_000, 'three counts in the log');
    const logs = await h.run(['task', 'logs', id]);
    expect(logs.stdout).toContain('hi count 0\nhi count 1\n');
    expect(logs.stderr).toContain('err 0\nerr 1\n');

    // exec: prints its output, exits with its status
    const ex = await h.run(['task', 'exec', id, '--exec-id', 'e1', '--', 'sh', '-c', 'echo from-exec $GREETING; echo exec-err >&2; exit 3']);
    expect(ex).toMatchObject({ exitCode: 3, stdout: 'from-exec hi\n', stderr: 'exec-err\n' });
    const exJson = await h.run(['task', 'exec', id, '--json', '--', 'true']);
    expect(exJson.exitCode).toBe(0);
    expect(JSON.parse(exJson.stdout)).toMatchObject({ exitStatus: 0, reason: 'exited' });

    // pause / resume
    expect((await h.run(['task', 'pause', id])).exitCode).toBe(0);
    expect((await state(id)).status).toBe('paused');
    const frozen = counts((await h.run(['task', 'logs', id])).stdout).length;
    await new Promise((r) => setTimeout(r, 600));
    expect(counts((await h.run(['task', 'logs', id])).stdout).length).toBe(frozen);
    expect((await h.run(['task', 'resume', id])).exitCode).toBe(0);
    expect((await state(id)).status).toBe('running');

    // ps
    const ps = await h.json<{ pid: number; info: { args: string[] } }[]>(['task', 'ps', id]);
    expect(ps.map((p) => p.pid)).toContain(running.pid);
    expect((await h.run(['task', 'ps', id])).stdout).toMatch(/^PID\s+PPID\s+STATE\s+RSS\s+CPU\s+EXEC\s+COMMAND\n/);

    // stats, update
    const stats = await h.json<{ memory: { limitBytes: number }; pids: { current: number; limit: number } }>(['task', 'stats', id]);
    expect(stats.memory.limitBytes).toBe(64 * 1024 * 1024);
    expect(stats.pids.limit).toBe(64);
    expect(stats.pids.current).toBeGreaterThanOrEqual(1);
    expect((await h.run(['task', 'stats', id])).stdout).toContain('of 64MiB');
    expect((await h.run(['task', 'update', id, '--memory', '128m', '--pids', '100'])).exitCode).toBe(0);
    const updated = await h.json<{ memory: { limitBytes: number }; pids: { limit: number } }>(['task', 'stats', id]);
    expect(updated.memory.limitBytes).toBe(128 * 1024 * 1024);
    expect(updated.pids.limit).toBe(100);

    // checkpoint: the task stops as checkpointed
    const image = path.join(h.stateDir, 'checkpoints', id);
    const ck = await h.run(['task', 'checkpoint', id, '--image', image]);
    expect(ck.exitCode, ck.stderr).toBe(0);
    expect(ck.stdout).toContain(`CRIU log:   ${path.join(image, 'work', 'dump.log')}`);
    const ckState = await state(id);
    expect(ckState).toMatchObject({ status: 'stopped', reason: 'checkpointed' });
    const lastBefore = Math.max(...counts((await h.run(['task', 'logs', id])).stdout));

    // restore under a new id: it keeps counting where it stopped
    const id2 = uid('r');
    const restored = await h.run(['task', 'restore', '--id', id2, '--from', image]);
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect((await state(id2)).status).toBe('running');
    await until(async () => Math.max(-1, ...counts((await h.run(['task', 'logs', id2])).stdout)) >= lastBefore + 3, 15_000, 'the restored task to count on');
    const after = counts((await h.run(['task', 'logs', id2])).stdout).filter((n) => n > lastBefore);
    expect(after[0]).toBe(lastBefore + 1);

    // kill, then wait --json reports exit status and ExitedAt, and exits with the status
    expect((await h.run(['task', 'kill', id2, '--signal', 'KILL'])).exitCode).toBe(0);
    const waited = await h.run(['task', 'wait', id2, '--json']);
    expect(waited.exitCode).toBe(137);
    const exit = JSON.parse(waited.stdout) as { exitStatus: number; exitedAt: string; signal: string; reason: string };
    expect(exit).toMatchObject({ exitStatus: 137, signal: 'SIGKILL', reason: 'exited' });
    expect(new Date(exit.exitedAt).toISOString()).toBe(exit.exitedAt);
    expect(Date.now() - Date.parse(exit.exitedAt)).toBeLessThan(60_000);

    // delete both
    expect((await h.run(['task', 'delete', id2])).stdout).toBe(`${id2} deleted (exit status 137)\n`);
    expect((await h.run(['task', 'delete', id])).exitCode).toBe(0);
    expect(await h.json<TaskJson[]>(['task', 'list'])).toEqual([]);
  });

  it('wait exits with the status of a task that ended on its own, and prints it without --json', async () => {
    const id = uid('w');
    const rootfs = await testRootfs();
    expect((await h.run(['task', 'create', '--id', id, '--rootfs', rootfs, '--', 'sh', '-c', 'sleep 0.3; exit 42'])).exitCode).toBe(0);
    expect((await h.run(['task', 'start', id])).exitCode).toBe(0);
    const w = await h.run(['task', 'wait', id]);
    expect(w.exitCode).toBe(42);
    expect(w.stdout).toMatch(/^exit status 42 at \d{4}-\d\d-\d\dT[\d:.]+Z\n$/);
    const s = await state(id);
    expect(s).toMatchObject({ status: 'stopped', exitStatus: 42, reason: 'exited' });
    expect((await h.run(['task', 'list'])).stdout).toMatch(new RegExp(`${id}\\s+stopped\\s+\\S+\\s+42\\s`));
    expect((await h.run(['task', 'delete', id])).exitCode).toBe(0);
  });

  it('resize changes the pty of a --tty task, and logs --follow streams until the task exits', async () => {
    const id = uid('tty');
    const script = 'for i in 1 2 3 4 5 6 7 8 9 10; do stty size; sleep 0.3; done';
    expect((await h.run(['task', 'create', '--id', id, '--rootfs', await testRootfs(), '--tty', '--', 'sh', '-c', script])).exitCode).toBe(0);
    expect((await h.json<{ terminal: boolean }>(['task', 'state', id])).terminal).toBe(true);
    const follow = h.run(['task', 'logs', '--follow', id]);
    expect((await h.run(['task', 'start', id])).exitCode).toBe(0);
    expect((await h.run(['task', 'resize', id, '--width', '100', '--height', '30'])).exitCode).toBe(0);
    const r = await follow;
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('30 100');
    expect((await h.run(['task', 'wait', id])).exitCode).toBe(0);
    expect((await h.run(['task', 'delete', id])).exitCode).toBe(0);
  });

  it('exec --stdin feeds the CLI\'s stdin to the process; --detach leaves it running for --exec-id commands', async () => {
    const id = uid('x');
    await h.run(['task', 'create', '--id', id, '--rootfs', await testRootfs(), '--', 'sleep', '1000']);
    await h.run(['task', 'start', id]);
    const piped = await execa('node', [CLI, '--state-dir', h.stateDir, 'task', 'exec', '-i', id, '--', 'sh', '-c', 'wc -l; echo done'], {
      input: 'a\nb\nc\n',
      reject: false,
    });
    expect(piped.exitCode, String(piped.stderr)).toBe(0);
    expect(String(piped.stdout).replace(/\s+/g, ' ').trim()).toBe('3 done');
    const d = await h.run(['task', 'exec', id, '--detach', '--exec-id', 'bg', '--', 'sh', '-c', 'echo started; sleep 1000']);
    expect(d).toMatchObject({ exitCode: 0, stdout: 'bg\n' });
    expect((await h.json<{ status: string }>(['task', 'state', id, '--exec-id', 'bg'])).status).toBe('running');
    const ps = await h.json<{ info: { execId?: string } }[]>(['task', 'ps', id]);
    expect(ps.some((p) => p.info.execId === 'bg')).toBe(true);
    await until(async () => (await h.run(['task', 'logs', id, '--exec-id', 'bg'])).stdout === 'started\n', 10_000, 'the exec log');
    expect((await h.run(['task', 'kill', id, '--exec-id', 'bg', '--signal', 'KILL'])).exitCode).toBe(0);
    const w = await h.run(['task', 'wait', id, '--exec-id', 'bg', '--json']);
    expect(w.exitCode).toBe(137);
    expect((await h.run(['task', 'delete', '--force', id])).exitCode).toBe(0);
  });

  it('delete --force kills a running task first; plain delete refuses', async () => {
    const id = uid('f');
    const rootfs = await testRootfs();
    await h.run(['task', 'create', '--id', id, '--rootfs', rootfs, '--', 'sleep', '1000']);
    await h.run(['task', 'start', id]);
    const refused = await h.run(['task', 'delete', id]);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/^stasis: cannot delete a running task/);
    const forced = await h.run(['task', 'delete', '--force', id]);
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect((await h.run(['task', 'state', id])).exitCode).toBe(1);
  });

  it('a paused task can be force-deleted too', async () => {
    const id = uid('p');
    await h.run(['task', 'create', '--id', id, '--rootfs', await testRootfs(), '--', 'sleep', '1000']);
    await h.run(['task', 'start', id]);
    expect((await h.run(['task', 'pause', id])).exitCode).toBe(0);
    const forced = await h.run(['task', 'delete', '--force', id]);
    expect(forced.exitCode, forced.stderr).toBe(0);
  });

  it('answers usage errors with exit 2 and runtime refusals with exit 1 and a clear message', async () => {
    const noId = await h.run(['task', 'create', '--', 'true']);
    expect(noId.exitCode).toBe(2);
    expect(noId.stderr).toMatch(/^stasis: missing --id\nUsage: stasis task create/);
    const badMem = await h.run(['task', 'create', '--id', uid('m'), '--memory', 'lots', '--', 'true']);
    expect(badMem.exitCode).toBe(2);
    expect(badMem.stderr).toContain('--memory');
    const missing = await h.run(['task', 'state', 'no-such-task']);
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toBe('stasis: task no-such-task not found in namespace default\n');
    const id = uid('pre');
    await h.run(['task', 'create', '--id', id, '--rootfs', await testRootfs(), '--', 'true']);
    const pause = await h.run(['task', 'pause', id]);
    expect(pause).toMatchObject({ exitCode: 1, stderr: 'stasis: cannot pause a created task\n' });
    expect((await h.run(['task', 'delete', id])).exitCode).toBe(0);
  });

  it('keeps namespaces apart (-n) and honours STASIS_STATE_DIR', async () => {
    const id = uid('ns');
    const rootfs = await testRootfs();
    expect((await h.run(['-n', 'other', 'task', 'create', '--id', id, '--rootfs', rootfs, '--', 'true'])).exitCode).toBe(0);
    expect((await h.json<TaskJson[]>(['task', 'list'])).map((t) => t.id)).not.toContain(id);
    expect((await h.json<TaskJson[]>(['task', 'list', '-n', 'other'])).map((t) => t.id)).toEqual([id]);
    const viaEnv = await execa('node', [CLI, 'task', 'list', '-q'], { reject: false, env: { STASIS_STATE_DIR: h.stateDir, STASIS_NAMESPACE: 'other' } });
    expect(viaEnv.stdout).toBe(id);
    expect((await h.run(['task', 'delete', id, '-n', 'other'])).exitCode).toBe(0);
  });
});
