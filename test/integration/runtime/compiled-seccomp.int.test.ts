/**
 * The node's seccomp profile compiled once (src/runtime/compiled-seccomp.ts) and loaded in each
 * container by /.stasis/seccomp: tasks, exec processes and restored tasks run under it, runc's
 * config holds none, the probe container leaves nothing behind, and checkpoints move between a node
 * that compiles and one where runc loads the profile.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { nativeFile } from '../../../src/os/native-addon.js';
import { loadRuntimeConfig, runtimePaths } from '../../../src/config/load.js';
import { createProbe } from '../../../src/runtime/compiled-seccomp.js';
import { seccompFor } from '../../../src/runtime/context.js';
import { stateDirTag } from '../../../src/runtime/ids.js';
import { openTaskManager } from '../../../src/runtime/task-manager.js';
import { SECCOMP_LOADER_PATHS } from '../../../src/sandbox/seccomp/loader.js';
import { starterArgs } from '../../../src/sandbox/starter.js';
import type { Task } from '../../../src/runtime/task.js';
import { describeWithHost } from '../../helpers/host.js';
import { execLines, expectImageRefused, harnessPair, logText, restoredOn, runSh, uid } from './harness.js';

// What a process sees of its filter and two calls the profile refuses (unshare needs no capability).
const PROBE = [
  'grep -E "^Seccomp(_filters)?:" /proc/self/status | tr -d "\\t"',
  'grep -E "^Seccomp_filters:" /proc/1/status | tr -d "\\t" | sed "s/^/init /"',
  'if unshare -U true 2>/dev/null; then echo unshare=ok; else echo unshare=refused; fi',
].join('; ');
const FILTERED = ['Seccomp:2', 'Seccomp_filters:1', 'init Seccomp_filters:1', 'unshare=refused'];

/** Runs PROBE in `t` (an exec) and returns its lines. */
const probe = (t: Task): Promise<string[]> => execLines(t, PROBE);

interface Config {
  process: { args: string[] };
  mounts: { destination: string; source: string; options: string[] }[];
  linux: { seccomp?: unknown };
}

async function configOf(t: Task): Promise<Config> {
  return JSON.parse(await fs.readFile(path.join(t.info.bundle, 'config.json'), 'utf8')) as Config;
}

describeWithHost(['runc', 'conmon', 'criu', 'root', 'busybox'], 'the seccomp profile compiled once and loaded by /.stasis/seccomp', () => {
  // Built by `npm run build` wherever a C compiler is; CI has one, so there it must be.
  const pair = harnessPair('seccomp', { STASIS_COMPILED_SECCOMP: '0' }, () => {
    if (!nativeFile('stasis-seccomp')) throw new Error('native/build/stasis-seccomp is not built (npm run build needs gcc and libc6-dev)');
  });
  const ckRoot = () => path.join(pair.h.stateDir, 'checkpoints');

  it('a task runs behind the loader: no linux.seccomp for runc, its init and its execs filtered, refused calls refused', async () => {
    const t = await runSh(pair.h, 'sleep 600');
    const spec = await configOf(t);
    expect(spec.linux.seccomp).toBeUndefined();
    // The native start loads the filter itself where it is built; otherwise the loader is in front.
    if (nativeFile('stasis-start')) expect(spec.process.args).toEqual(starterArgs(true));
    else expect(spec.process.args.slice(0, 3)).toEqual([SECCOMP_LOADER_PATHS.loader, SECCOMP_LOADER_PATHS.filter, '--']);
    const filter = spec.mounts.find((m) => m.destination === SECCOMP_LOADER_PATHS.filter);
    expect(filter).toMatchObject({ options: expect.arrayContaining(['ro', 'noexec']) });
    expect(path.dirname(filter!.source)).toBe(path.join(pair.h.stateDir, 'seccomp'));
    expect((await fs.stat(filter!.source)).mode & 0o777).toBe(0o444);
    expect(await probe(t)).toEqual(FILTERED);
    // The filter file is read-only inside the task too.
    const w = await t.exec(uid('w'), { args: ['sh', '-c', `echo x > ${SECCOMP_LOADER_PATHS.filter}`] });
    await w.start();
    expect((await w.wait()).status).not.toBe(0);
    // The loader is the node's execute-only copy: no process of the task can read it, so an exec'd
    // loader is non-dumpable until it has loaded the filter.
    const loader = spec.mounts.find((m) => m.destination === SECCOMP_LOADER_PATHS.loader)!;
    expect(path.dirname(loader.source)).toBe(path.join(pair.h.stateDir, 'seccomp'));
    expect((await fs.stat(loader.source)).mode & 0o7777).toBe(0o711);
    const r = await t.exec(uid('r'), { args: ['sh', '-c', `cat ${SECCOMP_LOADER_PATHS.loader} > /dev/null`] });
    await r.start();
    expect((await r.wait()).status).not.toBe(0);
    expect((await logText(r)).join('\n')).toMatch(/Permission denied/);
  });

  it('a loader still before its filter cannot be read or written by the task: /proc/<pid>/mem and environ are refused', async () => {
    // The loader held in its open() of a FIFO, i.e. before its seccomp() call, as a child of a job shell.
    const script = [
      'mkfifo /tmp/f',
      `${SECCOMP_LOADER_PATHS.loader} /tmp/f -- /bin/true & pid=$!`,
      'sleep 0.3',
      'grep "^Seccomp:" /proc/$pid/status | tr -d "\t"',
      'if cat /proc/$pid/environ > /dev/null 2>&1; then echo environ=read; else echo environ=refused; fi',
      'if echo x 2>/dev/null > /proc/$pid/mem; then echo mem=written; else echo mem=refused; fi',
      'kill $pid',
      // The control: a readable program's process is open to the same reads.
      'sleep 5 & s=$!; sleep 0.1; if cat /proc/$s/environ > /dev/null 2>&1; then echo control=read; else echo control=refused; fi; kill $s',
    ].join('; ');
    const t = await runSh(pair.h, script);
    await t.wait();
    // The shell itself is filtered (Seccomp:2); its own filter is inherited by the loader.
    expect((await logText(t)).map((l) => l.trim()).filter(Boolean)).toEqual(['Seccomp:2', 'environ=refused', 'mem=refused', 'control=read']);
  });

  it('the probe container leaves no container, bundle or cgroup, and a second manager reuses the filter', async () => {
    const runcRoot = path.join(pair.h.stateDir, 'run', 'runc');
    const { stdout } = await execa('runc', ['--root', runcRoot, 'list', '-q']);
    expect(stdout.split('\n').filter((l) => l.startsWith('seccomp-probe'))).toEqual([]);
    await expect(fs.readdir(path.join(pair.h.stateDir, 'run', 'seccomp-probe'))).rejects.toMatchObject({ code: 'ENOENT' });
    const tag = stateDirTag(pair.h.stateDir);
    const left = (await fs.readdir('/sys/fs/cgroup/memory/stasis').catch(() => [] as string[])).filter((d) => d.startsWith(`${tag}+seccomp-probe`));
    expect(left).toEqual([]);
    const files = await fs.readdir(path.join(pair.h.stateDir, 'seccomp'));
    const before = await fs.stat(path.join(pair.h.stateDir, 'seccomp', files.find((f) => f.endsWith('.bpf'))!));
    const second = await openTaskManager({ stateDir: pair.h.stateDir });
    await second.close();
    expect((await fs.readdir(path.join(pair.h.stateDir, 'seccomp'))).filter((f) => f.endsWith('.bpf'))).toHaveLength(1);
    expect((await fs.stat(path.join(pair.h.stateDir, 'seccomp', files.find((f) => f.endsWith('.bpf'))!))).mtimeMs).toBe(before.mtimeMs);
  });

  it('recover() deletes a probe container a crash left, and the compiled files no longer in use', async () => {
    const config = loadRuntimeConfig({ stateDir: pair.h.stateDir });
    const paths = runtimePaths(config);
    // A node killed in its probe: the created container is never deleted.
    const left = await createProbe(config, paths, (await seccompFor('default'))!);
    const dir = path.join(pair.h.stateDir, 'seccomp');
    const inUse = (await fs.readdir(dir)).sort();
    // An earlier build's loader copy, an earlier runc's filter, and a temp file a crash cut short.
    const stale = ['loader-0123456789abcdef', `${'0'.repeat(32)}.bpf`, `${'1'.repeat(32)}.bpf.tmp-0a1b2c`];
    for (const name of stale) await fs.writeFile(path.join(dir, name), 'x', { mode: 0o444 });
    await pair.h.tm.recover();
    const { stdout } = await execa('runc', ['--root', paths.runcRoot, 'list', '-q']);
    expect(stdout.split('\n').filter((l) => l.startsWith('seccomp-probe'))).toEqual([]);
    await expect(fs.stat(left.bundle)).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(fs.stat(path.join(paths.runcRoot, left.id))).rejects.toMatchObject({ code: 'ENOENT' });
    const tag = stateDirTag(pair.h.stateDir);
    expect((await fs.readdir('/sys/fs/cgroup/memory/stasis').catch(() => [] as string[])).filter((d) => d.startsWith(`${tag}+seccomp-probe`))).toEqual([]);
    expect((await fs.readdir(dir)).sort()).toEqual(inUse);
    // The files in use still serve new tasks.
    expect(await probe(await runSh(pair.h, 'sleep 600'))).toEqual(FILTERED);
  });

  it('an exec of a missing program exits 127 with the start-failure line, as a job does', async () => {
    const t = await runSh(pair.h, 'sleep 600');
    const p = await t.exec(uid('x'), { args: ['/no/such/program'] });
    await p.start();
    expect(await p.wait()).toMatchObject({ status: 127 });
    expect((await logText(p)).join('\n')).toContain('stasis: cannot start: /no/such/program: No such file or directory');
  });

  it('a restored task keeps its filter (CRIU) and gets the loader mounts again for its execs', async () => {
    const t = await runSh(pair.h, 'sleep 600');
    const dir = path.join(ckRoot(), uid('ck'));
    await t.checkpoint(dir);
    const r = await pair.h.tm.restore({ id: uid('r'), from: dir });
    expect((await configOf(r)).linux.seccomp).toBeUndefined();
    expect(await probe(r)).toEqual(FILTERED);
  });

  it("an image from a node where runc loads the profile restores here (execs by runc's filter); the reverse is refused", async () => {
    const t = await runSh(pair.old, 'sleep 600');
    expect((await configOf(t)).linux.seccomp).toBeDefined();
    const r = await restoredOn(t, pair.h, ckRoot());
    expect((await configOf(r)).linux.seccomp).toBeDefined();
    expect(await probe(r)).toEqual(FILTERED);
    await expectImageRefused(await runSh(pair.h, 'sleep 600'), pair.old, ckRoot(), 'compiled seccomp filter');
  });
});
