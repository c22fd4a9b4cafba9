/**
 * Tasks outlive the process that started them: a child node process creates and starts a task and
 * is SIGKILLed; a fresh manager re-opens the task from disk and gets its real exit. The child runs
 * the built runtime from dist/ (built here when missing or older than src/runtime).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { openTaskManager } from '../../../src/runtime/task-manager.js';
import { describeWithHost } from '../../helpers/host.js';
import { cleanupTasks, closeHarness, openHarness, runSh, uid, until, type Harness } from './harness.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const BUILT = path.join(ROOT, 'dist/src/runtime/task-manager.js');

const CHILD = `
const [modulePath, stateDir, id, rootfs] = process.argv.slice(2);
const { openTaskManager } = await import(modulePath);
const tm = await openTaskManager({ stateDir });
const t = await tm.create({ id, rootfs, process: { args: ['sh', '-c', 'sleep 2; exit 42'] } });
await t.start();
process.stdout.write('started\\n');
await t.wait();
`;

/** Builds dist/ when the built runtime is missing or older than any source file of src/runtime. */
async function ensureBuilt(): Promise<void> {
  const built = await fs.stat(BUILT).catch(() => undefined);
  const srcDir = path.join(ROOT, 'src/runtime');
  const newest = Math.max(...(await Promise.all((await fs.readdir(srcDir)).map(async (f) => (await fs.stat(path.join(srcDir, f))).mtimeMs))));
  if (!built || built.mtimeMs < newest) await execa('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: ROOT });
}

async function pidOf(file: string): Promise<number> {
  return Number((await fs.readFile(file, 'utf8')).trim());
}

describeWithHost(['runc', 'conmon', 'root', 'busybox'], 'tasks outlive the runtime process', () => {
  let h: Harness;
  beforeAll(async () => {
    await ensureBuilt();
    h = await openHarness('crash');
  }, 180_000);
  afterEach(() => cleanupTasks(h));
  afterAll(() => closeHarness(h));

  it('a fresh process gets the real exit status and ExitedAt of a task whose starter was SIGKILLed', async () => {
    const id = uid('crash');
    const script = path.join(h.stateDir, 'child.mjs');
    await fs.writeFile(script, CHILD);
    const child = spawn(process.execPath, [script, BUILT, h.stateDir, id, h.rootfs], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (b: Buffer) => b.toString().includes('started') && resolve());
      child.on('exit', (code) => reject(new Error(`child exited early with ${code}`)));
    });
    const startedAt = Date.now();
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));

    const fresh = await openTaskManager({ stateDir: h.stateDir });
    const t = await fresh.get(id);
    expect((await t.state()).status).toBe('running');
    const exit = await t.wait();
    expect(exit).toMatchObject({ status: 42, reason: 'exited', signal: null });
    const exitedAt = Date.parse(exit.exitedAt);
    expect(exitedAt).toBeGreaterThanOrEqual(startedAt + 1500);
    expect(exitedAt).toBeLessThanOrEqual(Date.now());
  });

  it('recover() reports running tasks and exits that happened while nobody watched, with their real ExitedAt', async () => {
    const running = await runSh(h, 'sleep 300');
    const quick = await runSh(h, 'sleep 0.3; exit 9');
    await new Promise((r) => setTimeout(r, 1500));
    const fresh = await openTaskManager({ stateDir: h.stateDir });
    const report = await fresh.recover();
    expect(report.running).toContain(running.id);
    expect(report.exited).toContain(quick.id);
    const exit = await (await fresh.get(quick.id)).wait();
    expect(exit.status).toBe(9);
    expect(Date.parse(exit.exitedAt)).toBeLessThan(Date.now() - 500);
  });

  it('recover() cleans a half-launched task (created, monitor dead) and a task dir without a record', async () => {
    const t = await h.tm.create({ id: uid('half'), rootfs: h.rootfs, process: { args: ['true'] } });
    process.kill(await pidOf(path.join(h.stateDir, 'run/tasks/default', t.id, 'run/conmon.pid')), 'SIGKILL');
    await until(async () => (await t.state()).status === 'stopped', 5_000, 'monitor death noticed');
    const orphan = path.join(h.stateDir, 'run/tasks/default', uid('orphan'));
    await fs.mkdir(path.join(orphan, 'bundle'), { recursive: true });

    const report = await (await openTaskManager({ stateDir: h.stateDir })).recover();
    expect(report.cleaned).toEqual(expect.arrayContaining([t.id, path.basename(orphan)]));
    await expect(fs.access(orphan)).rejects.toThrow();
    await expect(h.tm.get(t.id)).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    const { stdout } = await execa('runc', ['--root', path.join(h.stateDir, 'run', 'runc'), 'list', '-q']);
    expect(stdout).not.toContain(t.id);
  });

  it('recover() cleans a task whose record a machine crash left torn (task.json is not fsynced): its mounts, container and dir go', async () => {
    const t = await runSh(h, 'exit 0');
    await t.wait(AbortSignal.timeout(10_000));
    const dir = path.join(h.stateDir, 'run/tasks/default', t.id);
    await fs.writeFile(path.join(dir, 'task.json'), '');
    const report = await (await openTaskManager({ stateDir: h.stateDir })).recover();
    expect(report.cleaned).toContain(t.id);
    await expect(fs.access(dir)).rejects.toThrow();
    expect(await fs.readFile('/proc/self/mountinfo', 'utf8')).not.toContain(dir);
    const { stdout } = await execa('runc', ['--root', path.join(h.stateDir, 'run', 'runc'), 'list', '-q']);
    expect(stdout).not.toContain(t.id);
  });

  it('a running task whose monitor died is reported lost (status 255) and can still be deleted', async () => {
    const t = await runSh(h, 'sleep 300');
    process.kill(await pidOf(path.join(h.stateDir, 'run/tasks/default', t.id, 'run/conmon.pid')), 'SIGKILL');
    const exit = await t.wait(AbortSignal.timeout(10_000));
    expect(exit).toMatchObject({ status: 255, reason: 'lost' });
    const report = await h.tm.recover();
    expect(report.lost).toContain(t.id);
    expect((await t.state()).exitedAt).toBe(exit.exitedAt);
    await t.delete();
  });
});

/** Restores a checkpoint whose memory check (release) never ends, and says when the restored task runs. */
const RESTORING_CHILD = `
const [modulePath, stateDir, id, rootfs, from] = process.argv.slice(2);
const { openTaskManager } = await import(modulePath);
const tm = await openTaskManager({ stateDir });
await tm.restore({ id, rootfs, from, gate: Promise.resolve(), release: new Promise(() => {}) });
`;

describeWithHost(['runc', 'conmon', 'criu', 'root', 'busybox'], 'a restore cut short by a crash', () => {
  let h: Harness;
  beforeAll(async () => {
    await ensureBuilt();
    h = await openHarness('restore-crash');
  }, 180_000);
  afterAll(() => closeHarness(h));

  it('recover() discards a restored task whose memory check had not finished when its starter died: container, mounts and dir go', async () => {
    const t = await runSh(h, 'while :; do sleep 1; done');
    const from = path.join(h.stateDir, 'ck');
    await t.checkpoint(from);
    await t.delete();
    const id = uid('unverified');
    const script = path.join(h.stateDir, 'restoring.mjs');
    await fs.writeFile(script, RESTORING_CHILD);
    const child = spawn(process.execPath, [script, BUILT, h.stateDir, id, h.rootfs, from], { stdio: ['ignore', 'inherit', 'inherit'] });
    const exited = new Promise((r) => child.once('exit', r));
    const dir = path.join(h.stateDir, 'run/tasks/default', id);
    // The record gets the restored pid once runc restore returned; the release is still pending.
    const pid = await until(async () => {
      // No record yet (the child has not claimed the dir): not running yet.
      const rec = JSON.parse(await fs.readFile(path.join(dir, 'task.json'), 'utf8').catch(() => '{}')) as { pid?: number };
      return rec.pid;
    }, 30_000, 'the restored task to run');
    await expect(fs.access(path.join(dir, 'markers', 'verifying.json'))).resolves.toBeUndefined();
    child.kill('SIGKILL');
    await exited;

    const report = await (await openTaskManager({ stateDir: h.stateDir })).recover();
    expect(report.cleaned).toContain(id);
    expect(report.running).not.toContain(id);
    await until(async () => !(await fs.access(`/proc/${pid}`).then(() => true, () => false)), 10_000, 'the restored process to be gone');
    await expect(fs.access(dir)).rejects.toThrow();
    expect(await fs.readFile('/proc/self/mountinfo', 'utf8')).not.toContain(dir);
    const { stdout } = await execa('runc', ['--root', path.join(h.stateDir, 'run', 'runc'), 'list', '-q']);
    expect(stdout).not.toContain(id);
  }, 120_000);

  it('a restore whose release resolved leaves no verifying marker behind', async () => {
    const t = await runSh(h, 'while :; do sleep 1; done');
    const from = path.join(h.stateDir, 'ck2');
    await t.checkpoint(from);
    await t.delete();
    const r = await h.tm.restore({ id: uid('verified'), rootfs: h.rootfs, from, gate: Promise.resolve(), release: Promise.resolve() });
    await expect(fs.access(path.join(h.stateDir, 'run/tasks/default', r.id, 'markers', 'verifying.json'))).rejects.toThrow();
    expect((await (await openTaskManager({ stateDir: h.stateDir })).recover()).running).toContain(r.id);
  }, 60_000);
});
