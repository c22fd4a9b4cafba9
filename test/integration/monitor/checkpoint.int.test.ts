import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitExit } from '../../../src/monitor/exit-file.js';
import { readLog } from '../../../src/monitor/log.js';
import { describeWithHost } from '../../helpers/host.js';
import { MonitorFixture, ppidOf, until } from './fixture.js';

const COUNTER = ['sh', '-c', 'i=0; while :; do echo count $i; echo errcount $i >&2; i=$((i+1)); sleep 0.2; done'];

describeWithHost(['root', 'runc', 'conmon', 'criu', 'busybox'], 'checkpoint and restore under conmon', () => {
  let f: MonitorFixture;
  beforeAll(async () => {
    f = await MonitorFixture.create();
  });
  afterAll(async () => {
    await f?.cleanup();
  });

  async function counts(runDir: string): Promise<number[]> {
    const out: number[] = [];
    for await (const e of readLog(path.join(runDir, 'ctr.log'))) {
      if (e.stream === 'stdout' && e.data.startsWith('count ')) out.push(parseInt(e.data.slice(6), 10));
    }
    return out;
  }

  async function counter() {
    const id = f.id('ck');
    const bundle = await f.bundle(id, { args: COUNTER });
    const runDir = await f.runDir(id);
    const r = await f.launch({ containerId: id, bundle, runDir });
    await f.runc.start(id);
    await until(async () => (await counts(runDir)).length >= 3, 10_000, 'three counts');
    return { id, bundle, runDir, ...r };
  }

  it('checkpoints a counter (exit 137, container gone) and restores it under a new conmon: the count continues', async () => {
    const t = await counter();
    const ck = path.join(f.base, 'ck', t.id);
    await f.runc.checkpoint(t.id, { imagePath: path.join(ck, 'criu'), workPath: path.join(ck, 'work') });
    expect((await waitExit(t.runDir)).status).toBe(137);
    expect(await f.runc.state(t.id)).toBeNull();
    await fs.access(path.join(ck, 'criu', 'inventory.img'));
    await fs.access(path.join(ck, 'work', 'dump.log'));
    const last = (await counts(t.runDir)).at(-1)!;

    const runDir2 = await f.runDir(`${t.id}-r1`);
    const r = await f.launch({ containerId: t.id, bundle: t.bundle, runDir: runDir2, restoreFrom: path.join(ck, 'criu') });
    expect(await ppidOf(r.pid)).toBe(r.conmonPid);
    expect((await f.runc.state(t.id))?.status).toBe('running');
    await until(async () => (await counts(runDir2)).length >= 2, 10_000, 'counts after restore');
    const after = await counts(runDir2);
    expect(after[0]).toBe(last + 1);
    expect(after[1]).toBe(last + 2);
    await f.runc.kill(t.id, 'KILL');
    expect((await waitExit(runDir2)).status).toBe(137);
  });

  it('checkpoints with leaveRunning and restores into a different bundle and container id', async () => {
    const t = await counter();
    const ck = path.join(f.base, 'ck', `${t.id}-lr`);
    await f.runc.checkpoint(t.id, { imagePath: path.join(ck, 'criu'), workPath: path.join(ck, 'work'), leaveRunning: true });
    expect((await f.runc.state(t.id))?.status).toBe('running');
    const atDump = (await counts(t.runDir)).at(-1)!;
    await f.runc.kill(t.id, 'KILL');
    await waitExit(t.runDir);
    await f.runc.delete(t.id);

    const id2 = f.id('mig');
    const bundle2 = path.join(f.base, 'bundles', id2);
    await fs.mkdir(bundle2, { recursive: true });
    await fs.copyFile(path.join(t.bundle, 'config.json'), path.join(bundle2, 'config.json'));
    const runDir2 = await f.runDir(id2);
    await f.launch({ containerId: id2, bundle: bundle2, runDir: runDir2, restoreFrom: path.join(ck, 'criu') });
    expect(await f.runc.state(id2)).toMatchObject({ status: 'running', bundle: bundle2 });
    await until(async () => (await counts(runDir2)).length >= 1, 10_000, 'counts after migration');
    const first = (await counts(runDir2))[0]!;
    expect(first).toBeGreaterThanOrEqual(atDump);
    expect(first).toBeLessThanOrEqual(atDump + 2);
    await fs.access(path.join(bundle2, 'restore.log'));
    await f.runc.kill(id2, 'KILL');
    expect((await waitExit(runDir2)).status).toBe(137);
  });

  it('a failing restore is ERR_CHECKPOINT carrying runc error line and the restore.log path', async () => {
    const t = await counter();
    const ck = path.join(f.base, 'ck', `${t.id}-bad`);
    await f.runc.checkpoint(t.id, { imagePath: path.join(ck, 'criu'), workPath: path.join(ck, 'work') });
    await waitExit(t.runDir);
    for (const img of await fs.readdir(path.join(ck, 'criu'))) {
      if (img.startsWith('pages-') || img.startsWith('core-')) await fs.rm(path.join(ck, 'criu', img));
    }
    const id2 = f.id('bad');
    const bundle2 = path.join(f.base, 'bundles', id2);
    await fs.mkdir(bundle2, { recursive: true });
    await fs.copyFile(path.join(t.bundle, 'config.json'), path.join(bundle2, 'config.json'));
    const runDir2 = await f.runDir(id2);
    const err = await f.launch({ containerId: id2, bundle: bundle2, runDir: runDir2, restoreFrom: path.join(ck, 'criu') }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_CHECKPOINT' });
    const e = err as { message: string; details: { runtimeError: string; criuLog: string } };
    expect(e.message).toMatch(new RegExp(`^runc restore ${id2}: .*criu failed`));
    expect(e.details.runtimeError).toMatch(/criu failed/);
    expect(e.details.criuLog).toBe(path.join(bundle2, 'restore.log'));
    expect((await fs.readFile(e.details.criuLog, 'utf8')).length).toBeGreaterThan(0);
    expect(await f.runc.state(id2)).toBeNull();
  });

  it('pre-dump fails with ERR_CHECKPOINT that says incremental checkpoints need soft-dirty tracking; the container keeps running', async () => {
    const t = await counter();
    const ck = path.join(f.base, 'ck', `${t.id}-pre`);
    const err = await f.runc
      .checkpoint(t.id, { imagePath: path.join(ck, 'criu'), workPath: path.join(ck, 'work'), preDump: true })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_CHECKPOINT', details: { incrementalUnsupported: true } });
    expect((err as Error).message).toMatch(/soft-dirty/);
    expect((await f.runc.state(t.id))?.status).toBe('running');
    await f.runc.kill(t.id, 'KILL');
    await waitExit(t.runDir);
  });

  it('a dump with a parent image fails clearly (no memory dirty tracking here) and leaves the container running', async () => {
    const t = await counter();
    const ck = path.join(f.base, 'ck', `${t.id}-inc`);
    await f.runc.checkpoint(t.id, { imagePath: path.join(ck, 'a'), workPath: path.join(ck, 'wa'), leaveRunning: true });
    const err = await f.runc
      .checkpoint(t.id, { imagePath: path.join(ck, 'b'), workPath: path.join(ck, 'wb'), parentPath: '../a', leaveRunning: true })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_CHECKPOINT', details: { incrementalUnsupported: true } });
    expect((err as Error).message).toMatch(/soft-dirty/);
    expect((err as { details: { criuLog?: string } }).details.criuLog).toMatch(/dump\.log$/);
    expect((err as { details: { criuError?: string } }).details.criuError).toMatch(/Tracking memory is not available/);
    expect((await f.runc.state(t.id))?.status).toBe('running');
    await f.runc.kill(t.id, 'KILL');
    await waitExit(t.runDir);
  });

  it('a restore that fails inside CRIU before runc names the log still points at BUNDLE/restore.log', async () => {
    const t = await counter();
    const ck = path.join(f.base, 'ck', `${t.id}-nopstree`);
    await f.runc.checkpoint(t.id, { imagePath: path.join(ck, 'criu'), workPath: path.join(ck, 'work') });
    await waitExit(t.runDir);
    await fs.rm(path.join(ck, 'criu', 'pstree.img'));
    const runDir2 = await f.runDir(`${t.id}-r`);
    const err = await f.launch({ containerId: t.id, bundle: t.bundle, runDir: runDir2, restoreFrom: path.join(ck, 'criu') }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_CHECKPOINT', details: { criuLog: path.join(t.bundle, 'restore.log') } });
    expect((err as { details: { runtimeError: string } }).details.runtimeError.length).toBeGreaterThan(0);
  });

  it('checkpointing a missing container is ERR_NOT_FOUND', async () => {
    const ck = path.join(f.base, 'ck', 'missing');
    await expect(f.runc.checkpoint('ck-missing-0', { imagePath: path.join(ck, 'criu'), workPath: path.join(ck, 'work') })).rejects.toMatchObject({
      code: 'ERR_NOT_FOUND',
    });
  });
});
