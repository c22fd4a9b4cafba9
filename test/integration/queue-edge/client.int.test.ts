import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import { StasisClient } from '../../../src/queue/client.js';
import { resolveConnection, type ResolvedConnection } from '../../../src/queue/connection.js';
import { startRunner, type Runner } from '../../../src/node/runner.js';
import { Runc } from '../../../src/runc/runc.js';
import { runtimePaths } from '../../../src/config/load.js';

describeWithHost(['root', 'runc', 'conmon', 'redis-server', 'busybox'], 'StasisClient against a real runner', () => {
  let stateDir = '';
  let conn: ResolvedConnection;
  let runner: Runner;
  let client: StasisClient;
  const queue = `t-${randomUUID().slice(0, 8)}`;

  beforeAll(async () => {
    stateDir = await fs.mkdtemp(path.join(os.tmpdir(), 'stasis-qe-'));
    conn = await resolveConnection({ env: {}, stateDir });
    runner = await startRunner({
      connection: conn.options,
      runtime: { stateDir },
      runner: { queue, concurrency: 2, nodeId: `n-${randomUUID().slice(0, 6)}`, killGraceMs: 500 },
      env: {},
    });
    client = new StasisClient({ connection: conn.options, queue });
  });

  afterAll(async () => {
    await client?.close();
    await runner?.close().catch(() => undefined);
    const runc = new Runc({ binary: '/usr/sbin/runc', root: runtimePaths({ stateDir }).runcRoot });
    const left = await runc.list().catch(() => []);
    for (const c of left) await runc.delete(c.id, true).catch(() => undefined);
    await conn?.release();
    await fs.rm(stateDir, { recursive: true, force: true });
    expect(left).toEqual([]);
  });

  it('submit() then wait() returns the envelope with exit status, output and ExitedAt', async () => {
    const id = await client.submit({ command: ['sh', '-c', 'echo out; echo err >&2; exit 3'] });
    const r = await client.wait(id, { timeoutMs: 30_000 });
    expect(r).toMatchObject({ jobId: id, status: 'exited', exitStatus: 3, reason: 'exited', signal: null });
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('err\n');
    expect(new Date(r.exitedAt!).toISOString()).toBe(r.exitedAt);
    expect(await client.result(id)).toEqual(r);
    const s = await client.status(id);
    expect(s.state).toBe('completed');
    expect(s.result).toEqual(r);
    const logs: string[] = [];
    for await (const l of client.logs(id)) logs.push(...l.split('\n'));
    expect(logs).toContain('out');
    expect(logs).toContain('[stderr] err');
  });

  it('logs({ follow: true }) yields lines while the job runs and ends when it finishes', async () => {
    const id = await client.submit({ command: ['sh', '-c', 'for i in 1 2 3; do echo line$i; sleep 0.4; done'] });
    const seen: { line: string; state: string }[] = [];
    for await (const line of client.logs(id, { follow: true, pollMs: 50 })) {
      seen.push({ line, state: (await client.status(id)).state });
    }
    expect(seen.map((s) => s.line)).toEqual(['line1', 'line2', 'line3']);
    expect(seen[0]!.state).toBe('active');
    expect((await client.status(id)).state).toBe('completed');
  });

  it('cancel() stops a running job and its result says cancelled', async () => {
    const id = await client.submit({ command: ['sleep', '60'] });
    for (let i = 0; i < 100; i++) {
      const p = (await client.status(id)).progress as { status?: string } | null;
      if (p?.status === 'running') break;
      await sleep(100);
    }
    const out = await client.cancel(id);
    expect(out).toMatchObject({ jobId: id, state: 'active', requested: true });
    expect(out.delivered).toBeGreaterThan(0);
    const r = await client.wait(id, { timeoutMs: 30_000 });
    expect(r.reason).toBe('cancelled');
    expect(r.wallMs).toBeLessThan(30_000);
    expect(await client.cancel(id)).toMatchObject({ requested: false, state: 'completed' });
  });

  it('cancel() of a job not yet started completes it as cancelled when a runner takes it', async () => {
    const id = await client.submit({ command: ['sleep', '60'] }, { delay: 1500 });
    expect(await client.cancel(id)).toMatchObject({ state: 'delayed', requested: true });
    expect((await client.status(id)).cancelRequested).toBe(true);
    const r = await client.wait(id, { timeoutMs: 30_000 });
    expect(r.reason).toBe('cancelled');
    expect(r.exitStatus).toBeNull();
  });

  it('submit() rejects a bad payload naming each field, and adds nothing', async () => {
    const before = await client.queue.count();
    const bad = { command: [], limits: { memory: '-1' }, extra: 1 } as unknown as Parameters<StasisClient['submit']>[0];
    await expect(client.submit(bad)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(client.submit(bad)).rejects.toThrow(/command.*limits\.memory.*extra|extra.*command/s);
    expect(await client.queue.count()).toBe(before);
  });

  it('wait() on a job a plain producer added with a bad payload rejects with ERR_INVALID_ARGUMENT naming the field', async () => {
    const job = await client.queue.add('raw', { command: ['true'], limits: { memory: 'lots' } });
    const err = await client.wait(job.id!, { timeoutMs: 30_000 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect((err as Error).message).toMatch(/limits\.memory/);
    await expect(client.result(job.id!)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('wait() gives ERR_UNAVAILABLE on timeout and ERR_NOT_FOUND for an unknown id', async () => {
    const id = await client.submit({ command: ['sleep', '2'] });
    await expect(client.wait(id, { timeoutMs: 200 })).rejects.toMatchObject({ code: 'ERR_UNAVAILABLE' });
    await expect(client.wait('no-such-job')).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    expect((await client.wait(id, { timeoutMs: 30_000 })).exitStatus).toBe(0);
  });

  it('runnerCount() sees the runner node', async () => {
    expect(await client.runnerCount()).toBeGreaterThan(0);
  });
});
