/**
 * The job CLI as a user runs it: `node dist/src/cli/main.js …` child processes (run `npm run build`
 * first; `npm run test:integration` does) with a private --state-dir and no Redis configured.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa, execaNode, type ResultPromise } from 'execa';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import { embeddedRedisPaths, pingSocket, stopEmbeddedRedis } from '../../../src/queue/embedded-redis.js';
import { Runc } from '../../../src/runc/runc.js';
import { runtimePaths } from '../../../src/config/load.js';

const CLI = path.resolve(__dirname, '../../../dist/src/cli/main.js');
/** The caller's environment without any Redis, queue, namespace or state dir configured. */
const ENV = Object.fromEntries(
  Object.entries(process.env).filter(([k]) => !['REDIS_URL', 'STASIS_QUEUE', 'STASIS_NAMESPACE', 'STASIS_STATE_DIR'].includes(k)),
);

describeWithHost(['root', 'runc', 'conmon', 'redis-server', 'busybox'], 'stasis run / submit / status / logs / result', () => {
  let stateDir = '';
  const children: ResultPromise[] = [];
  const stasis = (args: string[]) => execaNode(CLI, ['--state-dir', stateDir, ...args], { env: ENV, extendEnv: false, reject: false, timeout: 60_000 });

  beforeAll(async () => {
    await fs.access(CLI).catch(() => {
      throw new Error(`${CLI} is missing: run npm run build first`);
    });
    stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'stasis-cli-'));
  });

  afterEach(async () => {
    for (const c of children.splice(0)) {
      c.kill('SIGTERM');
      await c.catch(() => undefined);
    }
  });

  afterAll(async () => {
    const runc = new Runc({ binary: '/usr/sbin/runc', root: runtimePaths({ stateDir }).runcRoot });
    const left = await runc.list().catch(() => []);
    for (const c of left) await runc.delete(c.id, true).catch(() => undefined);
    await stopEmbeddedRedis(stateDir);
    await fs.rm(stateDir, { recursive: true, force: true });
    expect(left).toEqual([]);
  });

  it("`stasis run -- sh -c 'echo hi; exit 3'` prints hi, exits 3, and stops the embedded Redis it started", async () => {
    const r = await stasis(['run', '--', 'sh', '-c', 'echo hi; echo oops >&2; exit 3']);
    expect(r.stdout).toBe('hi');
    expect(r.stderr).toContain('oops');
    expect(r.stderr).toMatch(/stasis: job \S+ exited with status 3/);
    expect(r.exitCode).toBe(3);
    expect(await pingSocket(embeddedRedisPaths(stateDir).socket)).toBe(false);
  });

  it('`stasis run --json` prints the envelope; limits and env reach the job', async () => {
    const r = await stasis(['run', '--json', '--memory', '64m', '--timeout', '30', '-e', 'GREETING=hey', '--', 'sh', '-c', 'echo $GREETING']);
    expect(r.exitCode).toBe(0);
    const env = JSON.parse(r.stdout) as { exitStatus: number; stdout: string; reason: string };
    expect(env).toMatchObject({ exitStatus: 0, stdout: 'hey\n', reason: 'exited' });
  });

  it('`stasis run --fail-on-non-zero` of a failing command reports the failed job and exits 125', async () => {
    const r = await stasis(['run', '--fail-on-non-zero', '--', 'sh', '-c', 'exit 4']);
    expect(r.exitCode).toBe(125);
    expect(r.stderr).toMatch(/failed: .*status 4/);
    const j = await stasis(['run', '--json', '--fail-on-non-zero', '--', 'sh', '-c', 'echo out; exit 5']);
    expect(j.exitCode).toBe(125);
    expect(JSON.parse(j.stdout)).toMatchObject({ exitStatus: 5, stdout: 'out\n' });
  });

  it('`stasis run` with a bad flag value fails with the field named and exit 2, submitting nothing', async () => {
    const r = await stasis(['run', '--memory=-1', '--', 'true']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/limits\.memory/);
  });

  it('`stasis serve` then `stasis run`, `submit`, `status`, `logs`, `result` share one embedded Redis and its runner', async () => {
    const serve = execaNode(CLI, ['--state-dir', stateDir, 'serve', '--node-id', `n-${randomUUID().slice(0, 6)}`], { env: ENV, extendEnv: false, reject: false });
    children.push(serve);
    const sock = embeddedRedisPaths(stateDir).socket;
    for (let i = 0; i < 200 && !(await pingSocket(sock)); i++) await sleep(50);
    await sleep(1000); // the runner's consumer connects after the Redis answers

    const run = await stasis(['run', '--', 'sh', '-c', 'echo via-serve']);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe('via-serve');
    expect(run.stderr).not.toMatch(/no runner/);
    expect(await pingSocket(sock)).toBe(true); // serve still uses it

    const sub = await stasis(['submit', '--', 'sh', '-c', 'echo one; echo two >&2; exit 5']);
    expect(sub.exitCode).toBe(0);
    const id = sub.stdout.trim();
    expect(id).toMatch(/^\S+$/);
    const res = await stasis(['result', '--wait', '--json', id]);
    expect(res.exitCode).toBe(0);
    expect(JSON.parse(res.stdout)).toMatchObject({ jobId: id, exitStatus: 5, stdout: 'one\n', stderr: 'two\n' });
    const st = await stasis(['status', id]);
    expect(st.stdout).toMatch(/state:\s+completed/);
    expect(st.stdout).toMatch(/exit status:\s+5/);
    const logs = await stasis(['logs', id]);
    expect(logs.stdout).toBe('one');
    expect(logs.stderr).toBe('two');

    serve.kill('SIGTERM');
    await serve;
    expect(await pingSocket(sock)).toBe(false); // the last user out stopped it
  });

  it('`stasis run` then `stasis serve` while its job runs: serve leaves that job alone, and the last one out stops Redis', async () => {
    const sock = embeddedRedisPaths(stateDir).socket;
    const run = stasis(['run', '--', 'sh', '-c', 'sleep 4; echo done']);
    children.push(run);
    for (let i = 0; i < 200 && !(await pingSocket(sock)); i++) await sleep(50);
    await sleep(1500); // the in-process runner has taken the job
    // Default node id (the hostname): recovery must not take the in-process runner's task for its own.
    const serve = execaNode(CLI, ['--state-dir', stateDir, 'serve'], { env: ENV, extendEnv: false, reject: false });
    children.push(serve);
    const r = await run;
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe('done');
    expect(r.stderr).toMatch(/exited with status 0/);
    expect(await pingSocket(sock)).toBe(true); // serve still holds a lease
    serve.kill('SIGTERM');
    await serve;
    expect(await pingSocket(sock)).toBe(false);
  });

  it('5 MB without a newline round-trips byte for byte through `stasis run` into a slow pipe', async () => {
    const cli = ['node', CLI, '--state-dir', stateDir, 'run', '--output-bytes', '8m', '--', 'sh', '-c', 'head -c 5000000 /dev/zero | tr "\\000" x'];
    const r = await execa('sh', ['-c', `${cli.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')} | (sleep 1; wc -c)`], { env: ENV, extendEnv: false, reject: false, timeout: 60_000 });
    expect(r.stdout.trim()).toBe('5000000');
    const exact = await execa('sh', ['-c', `${cli.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')} | sha256sum`], { env: ENV, extendEnv: false, reject: false, timeout: 60_000 });
    const want = await execa('sh', ['-c', 'head -c 5000000 /dev/zero | tr "\\000" x | sha256sum']);
    expect(exact.stdout).toBe(want.stdout);
  });

  it('partial lines come out exactly: no newline added, none lost, stdout and stderr apart', async () => {
    const r = await stasis(['run', '--', 'sh', '-c', 'printf a; printf b >&2; printf "c\\nd"']);
    expect(r.stdout).toBe('ac\nd');
    expect(r.stderr.startsWith('b')).toBe(true);
  });

  it('Ctrl-C during `stasis run` cancels the job: the summary says cancelled and `stasis run` exits 130', async () => {
    const run = stasis(['run', '--', 'sh', '-c', 'echo start; sleep 60']);
    children.push(run);
    await new Promise<void>((resolve) => {
      run.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('start')) resolve();
      });
    });
    run.kill('SIGINT');
    const r = await run;
    expect(r.stderr).toMatch(/cancelling job/);
    expect(r.stderr).toMatch(/job \S+ cancelled with status (137|143)/);
    expect(r.exitCode).toBe(130);
  });

  it('`stasis result` of an unknown job fails with ERR_NOT_FOUND', async () => {
    const r = await stasis(['result', 'nope']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/no job nope/);
  });
});
