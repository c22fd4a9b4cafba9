import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import type { Task } from '../../../src/runtime/task.js';
import { describeWithHost } from '../../helpers/host.js';
import { cgroupsPathFor } from '../../../src/runtime/ids.js';
import { nativeFile } from '../../../src/os/native-addon.js';
import { cleanupTasks, closeHarness, logText, openHarness, runSh, uid, until, type Harness } from './harness.js';

const COUNTER = 'i=0; while true; do echo count $i; i=$((i+1)); sleep 0.2; done';

/** The last `count N` of a task's log. */
async function lastCount(t: Task): Promise<number> {
  const counts = (await logText(t)).map((l) => /^count (\d+)$/.exec(l.trim())?.[1]).filter((x): x is string => !!x).map(Number);
  return counts.length ? counts[counts.length - 1]! : -1;
}

/** The first `count N` of a task's log. */
async function firstCount(t: Task): Promise<number> {
  const first = (await logText(t)).map((l) => /^count (\d+)$/.exec(l.trim())?.[1]).find((x) => x !== undefined);
  return first === undefined ? -1 : Number(first);
}

describeWithHost(['runc', 'conmon', 'criu', 'root', 'busybox'], 'checkpoint and restore', () => {
  let h: Harness;
  let ckRoot: string;
  beforeAll(async () => {
    h = await openHarness('ckpt');
    ckRoot = path.join(h.stateDir, 'checkpoints');
  });
  afterEach(() => cleanupTasks(h));
  afterAll(() => closeHarness(h));

  async function countingTask(): Promise<Task> {
    const t = await runSh(h, `mkdir -p /data; echo kept > /data/file; rm /bin/vi; ${COUNTER}`);
    await until(async () => (await lastCount(t)) >= 3, 10_000, 'count 3');
    return t;
  }

  it('checkpoint() stops the task as checkpointed and writes the image layout', async () => {
    const t = await countingTask();
    const dir = path.join(ckRoot, uid('ck'));
    const r = await t.checkpoint(dir);
    expect(r).toMatchObject({ path: dir, leaveRunning: false, criuLog: path.join(dir, 'work', 'dump.log') });
    expect(r.dumpMs).toBeGreaterThan(0);
    const exit = await t.wait();
    expect(exit).toMatchObject({ status: 137, reason: 'checkpointed' });
    const files = await fs.readdir(dir);
    expect(files.sort()).toEqual(['checkpoint.json', 'config.json', 'criu', 'rootfs-diff.tar', 'work']);
    const meta = JSON.parse(await fs.readFile(path.join(dir, 'checkpoint.json'), 'utf8'));
    expect(meta).toMatchObject({ version: 1, taskId: t.id, namespace: 'default', rootfs: h.rootfs, hasRootfsDiff: true, terminal: false });
    await expect(t.checkpoint(path.join(ckRoot, uid('ck')))).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION' });
  });

  it('leaves the rootfs diff out when the task wrote no file, and the restored task still has its mountpoints', async () => {
    const t = await runSh(h, COUNTER);
    await until(async () => (await lastCount(t)) >= 2, 10_000, 'count 2');
    const dir = path.join(ckRoot, uid('ck'));
    await t.checkpoint(dir);
    expect((await fs.readdir(dir)).sort()).toEqual(['checkpoint.json', 'config.json', 'criu', 'work']);
    expect(JSON.parse(await fs.readFile(path.join(dir, 'checkpoint.json'), 'utf8'))).toMatchObject({ hasRootfsDiff: false });
    const before = await lastCount(t);
    const r = await h.tm.restore({ id: uid('r'), from: dir });
    await until(async () => (await lastCount(r)) > before, 10_000, 'the restored count');
    const ls = await r.exec('ls', { args: ['ls', '/.stasis'] });
    await ls.start();
    expect((await ls.wait()).status).toBe(0);
    // pid 1 is the native start where it is built, tini otherwise.
    expect(await logText(ls)).toEqual(expect.arrayContaining(['busybox', nativeFile('stasis-start') ? 'start' : 'init', 'job']));
    // The restored task's mountpoints were made again by CRIU (as the host's root): still nothing to carry.
    const again = path.join(ckRoot, uid('ck'));
    await r.checkpoint(again);
    expect(JSON.parse(await fs.readFile(path.join(again, 'checkpoint.json'), 'utf8'))).toMatchObject({ hasRootfsDiff: false });
    const before2 = await lastCount(r);
    const r2 = await h.tm.restore({ id: uid('r'), from: again });
    await until(async () => (await lastCount(r2)) > before2, 10_000, 'the count after a second restore');
    await r2.kill('KILL');
    await r2.wait();
  });

  it('restore() into the SAME id continues the count, with output in the new log', async () => {
    const t = await countingTask();
    const dir = path.join(ckRoot, uid('ck'));
    await t.checkpoint(dir);
    const before = await lastCount(t);
    const r = await h.tm.restore({ id: t.id, from: dir });
    expect((await r.state()).status).toBe('running');
    expect(r.info.restoredFrom).toBe(dir);
    await until(async () => (await lastCount(r)) >= before + 3, 10_000, 'restored count');
    expect(await firstCount(r)).toBe(before + 1);
    const e = await r.exec('probe', { args: ['sh', '-c', 'cat /data/file; test -e /bin/vi || echo vi-gone'] });
    await e.start();
    await e.wait();
    expect(await logText(e)).toEqual(['kept', 'vi-gone']);
  });

  it('restore() into a DIFFERENT id (and namespace) continues the count; the old task can stay until deleted', async () => {
    const t = await countingTask();
    const dir = path.join(ckRoot, uid('ck'));
    await t.checkpoint(dir);
    const before = await lastCount(t);
    const id = uid('mig');
    const r = await h.tm.restore({ id, namespace: 'other', from: dir, annotations: { migrated: 'yes' } });
    expect(r.info).toMatchObject({ id, namespace: 'other', containerId: `other+${id}`, annotations: { migrated: 'yes' } });
    expect((r.info.spec.linux as { cgroupsPath: string }).cgroupsPath).toBe(cgroupsPathFor(h.stateDir, 'other', id));
    await until(async () => (await lastCount(r)) >= before + 3, 10_000, 'restored count');
    expect(await firstCount(r)).toBe(before + 1);
    expect((await t.state()).exit?.reason).toBe('checkpointed');
    await r.kill('KILL');
    expect((await r.wait()).status).toBe(137);
  });

  it("no CRIU configuration file reaches runc from annotations: a task's own, and one its checkpoint carries, become ''", async () => {
    // runc gives CRIU the file `org.criu.config` names, and that file's settings win over runc's.
    const evil = path.join(h.stateDir, 'evil-criu.conf');
    const t = await runSh(h, COUNTER, { annotations: { 'org.criu.config': evil, kept: 'yes' } });
    const bundleAnnotations = async (bundle: string) => (JSON.parse(await fs.readFile(path.join(bundle, 'config.json'), 'utf8')) as { annotations: Record<string, string> }).annotations;
    expect(await bundleAnnotations(t.info.bundle)).toMatchObject({ 'org.criu.config': '', kept: 'yes' });
    await until(async () => (await lastCount(t)) >= 2, 10_000, 'count 2');
    const dir = path.join(ckRoot, uid('ck'));
    await t.checkpoint(dir);
    // A checkpoint written by another node (or before this rule) names a file: the restore drops it.
    const specFile = path.join(dir, 'config.json');
    const spec = JSON.parse(await fs.readFile(specFile, 'utf8')) as { annotations: Record<string, string> };
    spec.annotations['org.criu.config'] = evil;
    await fs.writeFile(specFile, JSON.stringify(spec));
    const r = await h.tm.restore({ id: uid('r'), from: dir, annotations: { 'org.criu.config': evil } });
    expect(await bundleAnnotations(r.info.bundle)).toMatchObject({ 'org.criu.config': '', kept: 'yes' });
    await r.kill('KILL');
    await r.wait();
  });

  it('checkpoint({leaveRunning}) keeps the task running, and a paused task can be checkpointed', async () => {
    const t = await countingTask();
    const r = await t.checkpoint(path.join(ckRoot, uid('ck')), { leaveRunning: true, rootfsDiff: false });
    expect(r.leaveRunning).toBe(true);
    expect((await t.state()).status).toBe('running');
    const n = await lastCount(t);
    await until(async () => (await lastCount(t)) > n, 10_000, 'still counting');
    await t.pause();
    const dir = path.join(ckRoot, uid('ck'));
    await t.checkpoint(dir);
    expect((await t.wait()).reason).toBe('checkpointed');
    const back = await h.tm.restore({ id: uid('r'), from: dir });
    expect((await back.state()).status).toBe('running');
  });

  it('leave-running checkpoints taken back to back until the task ends fail only as ERR_FAILED_PRECONDITION', async () => {
    // A dump that meets the task's exit (CRIU: "Unable to detach from N: No such process", or runc:
    // "cannot be checkpointed in stopped state") is the end of the task, not a CRIU fault.
    const codes = new Set<string>();
    for (let n = 0; n < 3; n++) {
      const t = await runSh(h, 'i=0; while [ $i -lt 3 ]; do i=$((i+1)); sleep 0.2; done');
      while ((await t.state()).status !== 'stopped') {
        await t.checkpoint(path.join(ckRoot, uid('ck')), { leaveRunning: true, rootfsDiff: false }).then(
          () => codes.add('ok'),
          (e: { code?: string }) => codes.add(e.code ?? String(e)),
        );
      }
      expect((await t.wait()).status).toBe(0);
    }
    expect(codes.has('ok')).toBe(true);
    expect([...codes].filter((c) => c !== 'ok' && c !== 'ERR_FAILED_PRECONDITION')).toEqual([]);
  });

  it('pre-dump and parent-path fail with a clear ERR_CHECKPOINT where dirty tracking is missing', async () => {
    const tracking = await execa(process.env.STASIS_CRIU ?? '/usr/local/bin/stasis-criu', ['check', '--feature', 'mem_dirty_track'], { reject: false });
    const t = await countingTask();
    const pre = await t.checkpoint(path.join(ckRoot, uid('ck')), { preDump: true }).catch((e: unknown) => e);
    const parent = path.join(ckRoot, uid('parent'));
    await t.checkpoint(parent, { leaveRunning: true });
    const inc = await t.checkpoint(path.join(ckRoot, uid('ck')), { parentPath: parent, leaveRunning: true }).catch((e: unknown) => e);
    if (tracking.exitCode !== 0) {
      for (const err of [pre, inc]) {
        expect(err).toMatchObject({ code: 'ERR_CHECKPOINT' });
        expect((err as Error).message).toMatch(/incremental.*soft-dirty/s);
        expect((err as { details: { runtimeError?: string } }).details.runtimeError).toBeTruthy();
      }
    }
    expect((await t.state()).status).toBe('running');
  });

  it('a failed restore leaves nothing behind and carries runc\'s line and the restore.log path', async () => {
    const t = await runSh(h, `mkdir -p /data; exec 3>/data/log; ${COUNTER}`);
    await until(async () => (await lastCount(t)) >= 1, 10_000, 'count 1');
    const dir = path.join(ckRoot, uid('ck'));
    await t.checkpoint(dir, { rootfsDiff: false });
    const id = uid('bad');
    const err = await h.tm.restore({ id, from: dir }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_CHECKPOINT' });
    const details = (err as { details: { runtimeError?: string; criuLog?: string } }).details;
    expect(details.runtimeError).toBeTruthy();
    expect(details.criuLog).toMatch(/restore\.log$/);
    expect(await fs.readFile(details.criuLog!, 'utf8')).toMatch(/data\/log/);
    await expect(h.tm.get(id)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    await expect(fs.access(path.join(h.stateDir, 'run', 'tasks', 'default', id))).rejects.toThrow();
  });

  it('restore() refuses a directory that is not a checkpoint, and a running task\'s id', async () => {
    const t = await runSh(h, 'sleep 300');
    await expect(h.tm.restore({ id: uid(), from: h.stateDir })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    const dir = path.join(ckRoot, uid('ck'));
    const other = await countingTask();
    await other.checkpoint(dir);
    await expect(h.tm.restore({ id: t.id, from: dir })).rejects.toMatchObject({ code: 'ERR_ALREADY_EXISTS' });
    expect((await t.state()).status).toBe('running');
  });

  it('a terminal task and a task with stdin keep counting after restore', async () => {
    for (const variant of [{ process: { args: ['sh', '-c', COUNTER], terminal: true } }, { process: { args: ['sh', '-c', COUNTER] }, stdin: true }]) {
      const t = await h.tm.create({ id: uid(), rootfs: h.rootfs, ...variant });
      await t.start();
      await until(async () => (await lastCount(t)) >= 2, 10_000, 'count 2');
      const dir = path.join(ckRoot, uid('ck'));
      await t.checkpoint(dir);
      const before = await lastCount(t);
      const r = await h.tm.restore({ id: uid('r'), from: dir });
      expect((await r.state()).terminal).toBe(variant.process.terminal ?? false);
      await until(async () => (await lastCount(r)) >= before + 2, 10_000, 'restored count');
      expect(await firstCount(r)).toBe(before + 1);
    }
  });

  it('stdin survives a restore: the restored task reads what is written to it', async () => {
    const t = await h.tm.create({ id: uid(), rootfs: h.rootfs, stdin: true, process: { args: ['sh', '-c', 'while read l; do echo got $l; done; echo eof; exit 3'] } });
    await t.start();
    await t.writeStdin('one\n');
    await until(async () => (await logText(t)).includes('got one'), 10_000, 'got one');
    const dir = path.join(ckRoot, uid('ck'));
    await t.checkpoint(dir);
    const r = await h.tm.restore({ id: t.id, from: dir });
    await r.writeStdin('two\n');
    await until(async () => (await logText(r)).includes('got two'), 10_000, 'got two');
    await r.closeIO();
    expect((await r.wait()).status).toBe(3);
    expect(await logText(r)).toEqual(['got two', 'eof']);
  });
});
