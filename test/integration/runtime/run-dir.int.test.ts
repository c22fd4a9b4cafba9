import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import { mountsUnder, unmountUnder } from '../../helpers/mounts.js';
import { runDirOf, runtimePaths } from '../../../src/config/load.js';
import { mountRunDir, releaseRunDir, RUN_TMPFS_SOURCE, TMPFS_MAGIC } from '../../../src/runtime/run-dir.js';
import { openTaskManager } from '../../../src/runtime/task-manager.js';
import { mountAt } from '../../../src/sandbox/rootfs.js';
import { testRootfs } from '../../helpers/rootfs.js';
import { uid } from './harness.js';

async function onTmpfs(dir: string): Promise<boolean> {
  return (await fs.statfs(dir)).type === TMPFS_MAGIC;
}

describeWithHost(['runc', 'conmon', 'root', 'busybox'], 'the run dir (STATE_DIR/run) on a tmpfs', () => {
  let state: string;
  beforeEach(async () => {
    state = await fs.mkdtemp(path.join(os.tmpdir(), 'stasis-rundir-'));
  });
  afterEach(async () => {
    unmountUnder(state);
    await fs.rm(state, { recursive: true, force: true });
  });

  it('is mounted once (nosuid, nodev, 0711), holds runc root, task dirs and locks, and goes when empty', async () => {
    expect(await mountRunDir(state)).toEqual({ place: 'mounted' });
    expect(await mountRunDir(state)).toEqual({ place: 'tmpfs' });
    const run = runDirOf(state);
    expect(mountsUnder(state)).toEqual([run]);
    const m = await mountAt(run);
    expect(m).toMatchObject({ fsType: 'tmpfs', source: RUN_TMPFS_SOURCE });
    const line = (await fs.readFile('/proc/self/mountinfo', 'utf8')).split('\n').find((l) => l.split(' ')[4] === run)!;
    expect(line.split(' ')[5]!.split(',')).toEqual(expect.arrayContaining(['nosuid', 'nodev']));
    expect((await fs.stat(run)).mode & 0o777).toBe(0o711);

    const tm = await openTaskManager({ stateDir: state });
    const t = await tm.create({ id: uid('run'), rootfs: await testRootfs(), process: { args: ['/bin/sleep', '60'] } });
    try {
      await t.start();
      const paths = runtimePaths({ stateDir: state });
      expect(await onTmpfs(paths.tasksDir)).toBe(true);
      expect(await onTmpfs(path.join(paths.runcRoot, t.info.containerId))).toBe(true);
      expect(t.info.bundle.startsWith(paths.tasksDir + path.sep)).toBe(true);
      // A live task keeps it.
      expect(await releaseRunDir(state)).toBe(false);
      expect(mountsUnder(state)).toContain(run);
    } finally {
      // A task that failed to start, or ended, has nothing to kill or wait for: the delete is what must work.
      await t.kill('KILL', { all: true }).catch(() => undefined);
      await t.wait(AbortSignal.timeout(10_000)).catch(() => undefined);
      await t.delete();
      await tm.close();
    }
    expect(await releaseRunDir(state)).toBe(true);
    expect(mountsUnder(state)).toEqual([]);
    // The next mount is a fresh one.
    expect(await mountRunDir(state)).toEqual({ place: 'mounted' });
    expect(await fs.readdir(run)).toEqual([]);
  });

  it('stays on disk when it holds a task already (a mount would hide it), and is never unmounted there', async () => {
    const run = runDirOf(state);
    await fs.mkdir(path.join(run, 'tasks', 'default', 'old'), { recursive: true });
    const r = await mountRunDir(state);
    expect(r.place).toBe('disk');
    expect(r.place === 'disk' && r.why).toContain('holds tasks already');
    expect(mountsUnder(state)).toEqual([]);
    expect(await releaseRunDir(state)).toBe(false);
    expect(await fs.readdir(path.join(run, 'tasks', 'default'))).toEqual(['old']);
  });

  it('is mounted over a run dir on disk that holds only empty directories (a manager opened it before)', async () => {
    const tm = await openTaskManager({ stateDir: state });
    await tm.close();
    expect((await fs.readdir(runDirOf(state))).length).toBeGreaterThan(0);
    expect(await mountRunDir(state)).toEqual({ place: 'mounted' });
    expect(await releaseRunDir(state)).toBe(true);
  });

  it('leaves a tmpfs it did not mount alone', async () => {
    const run = runDirOf(state);
    await fs.mkdir(run);
    // Someone else's tmpfs at the same place (the operator's, say): used as it is, never unmounted.
    const { execFileSync } = await import('node:child_process');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'mode=0711', 'operator-tmpfs', run]);
    expect(await mountRunDir(state)).toEqual({ place: 'tmpfs' });
    expect(await releaseRunDir(state)).toBe(false);
    expect(mountsUnder(state)).toEqual([run]);
  });
});
