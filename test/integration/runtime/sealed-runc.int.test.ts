import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import fsSync from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import { useTempDir } from '../../helpers/temp-dir.js';
import { loadRuntimeConfig } from '../../../src/config/load.js';
import { loadAddon } from '../../../src/os/native-addon.js';
import { runCommand } from '../../../src/os/command.js';
import { sealedBinary, sealedDir } from '../../../src/runc/sealed-binary.js';
import { closeHarness, logText, openHarness, uid, type Harness } from './harness.js';

const sha256 = async (f: string) => createHash('sha256').update(await fs.readFile(f)).digest('hex');

describeWithHost(['root', 'runc', 'conmon'], 'runc from a sealed copy (native/sealed-copy.c): made once, unwritable, run by conmon', () => {
  const tmp = useTempDir('stasis-sealed-');
  const runc = loadRuntimeConfig({}).runc;
  const built = loadAddon('stasis_sealed') !== null;
  let h: Harness;
  beforeAll(async () => {
    h = await openHarness('sealed');
  });
  afterAll(async () => {
    if (h) await closeHarness(h);
  });

  it('the addon is built (npm run build) wherever a C compiler is, and always in CI', () => {
    if (process.env.CI) expect(built).toBe(true);
  });

  it('links <state>/sealed/<pid>/runc to one sealed memfd of this process with runc’s bytes; stale pid dirs go', async () => {
    if (!built) return;
    const state = tmp();
    const stale = path.join(sealedDir(state), '2147483646'); // no such process
    await fs.mkdir(stale, { recursive: true });
    await fs.symlink('/proc/2147483646/fd/3', path.join(stale, 'runc'));
    const link = sealedBinary(runc, state);
    expect(link).toBe(path.join(state, 'run', 'sealed', String(process.pid), path.basename(runc)));
    const target = await fs.readlink(link);
    expect(target).toMatch(new RegExp(`^/proc/${process.pid}/fd/\\d+$`));
    expect(await fs.readlink(target)).toMatch(/^\/memfd:runc/);
    expect(await sha256(link)).toBe(await sha256(runc));
    // One copy a process: a second call (and another state dir) reuse it.
    expect(await fs.readlink(sealedBinary(runc, state))).toBe(target);
    expect(await fs.readlink(sealedBinary(runc, path.join(state, 'other')))).toBe(target);
    // Sweeping happens once per thread; this file's first call did it.
    expect(fsSync.existsSync(stale)).toBe(false);
    // Sealed: no one can write it, not even root.
    const fd = fsSync.openSync(link, 'r+');
    try {
      expect(() => fsSync.writeSync(fd, 'x', 0)).toThrow(expect.objectContaining({ code: 'EPERM' }));
      expect(() => fsSync.ftruncateSync(fd, 0)).toThrow(expect.objectContaining({ code: 'EPERM' }));
    } finally {
      fsSync.closeSync(fd);
    }
    const v = await runCommand(link, ['--version']);
    expect(v.exitCode).toBe(0);
    expect(v.stdout).toMatch(/^runc version/);
  });

  it('a changed binary gets a new copy; a script, a missing file or STASIS_SEALED_RUNC=0 are run as they are', async () => {
    if (!built) return;
    const state = tmp();
    const copy = path.join(tmp(), 'runc');
    await fs.copyFile(runc, copy);
    const first = await fs.readlink(sealedBinary(copy, state));
    await fs.appendFile(copy, Buffer.from([0])); // an "upgrade": size and mtime change
    const second = await fs.readlink(sealedBinary(copy, state));
    expect(second).not.toBe(first);
    expect(await sha256(second)).toBe(await sha256(copy));
    const script = path.join(tmp(), 'wrapper');
    await fs.writeFile(script, `#!/bin/sh\nexec ${runc} "$@"\n`, { mode: 0o755 });
    expect(sealedBinary(script, state)).toBe(script);
    expect(sealedBinary(path.join(tmp(), 'missing'), state)).toBe(path.join(tmp(), 'missing'));
    expect(sealedBinary(runc, state, { STASIS_SEALED_RUNC: '0' })).toBe(runc);
  });

  it('conmon runs runc from the copy: a task and an exec in it work, conmon’s -r is the link', async () => {
    const t = await h.tm.create({ id: uid('sealed'), rootfs: h.rootfs, process: { args: ['/bin/sh', '-c', 'echo started; exec sleep 60'] } });
    await t.start();
    const conmonPid = Number((await fs.readFile(path.join(h.stateDir, 'run/tasks/default', t.id, 'run/conmon.pid'), 'utf8')).trim());
    const argv = (await fs.readFile(`/proc/${conmonPid}/cmdline`, 'utf8')).split('\0');
    const r = argv[argv.indexOf('-r') + 1];
    expect(r).toBe(built ? path.join(h.stateDir, 'run', 'sealed', String(process.pid), path.basename(runc)) : runc);
    const p = await t.exec(uid('x'), { args: ['/bin/echo', 'from exec'] });
    await p.start();
    expect(await p.wait(AbortSignal.timeout(20_000))).toMatchObject({ status: 0, reason: 'exited' });
    expect((await logText(p)).join('')).toContain('from exec');
    await t.kill('KILL');
    await t.wait(AbortSignal.timeout(20_000));
    await t.delete();
  });
});
