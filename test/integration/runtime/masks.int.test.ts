import fs from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import type { Task } from '../../../src/runtime/task.js';
import { describeWithHost } from '../../helpers/host.js';
import { execLines, expectImageRefused, harnessPair, restoredOn, runSh, uid } from './harness.js';

// What a task sees of /sys/firmware: its entries, a write's answer, and its mount's options.
const PROBE = [
  'echo "entries=$(ls -A /sys/firmware | wc -l)"',
  'if { echo x > /sys/firmware/planted; } 2>/dev/null; then echo write=ok; else echo write=refused; fi',
  'if mkdir /sys/firmware/d 2>/dev/null; then echo mkdir=ok; else echo mkdir=refused; fi',
  'echo "mount=$(grep " /sys/firmware " /proc/self/mountinfo | cut -d" " -f6 | cut -d, -f1)"',
].join('; ');

/** Runs PROBE in `t` (an exec) and returns its lines. */
const probe = (t: Task): Promise<string[]> => execLines(t, PROBE);

const MASKED = ['entries=0', 'write=refused', 'mkdir=refused', 'mount=ro'];

describeWithHost(['runc', 'conmon', 'criu', 'root', 'busybox'], 'masked directories as read-only binds of the node-owned empty directory', () => {
  const pair = harnessPair('masks', { STASIS_BIND_MASKS: '0' });
  const ckRoot = () => path.join(pair.h.stateDir, 'checkpoints');

  it('a task sees /sys/firmware empty and cannot write to it; the node-owned directory stays empty', async () => {
    const t = await runSh(pair.h, 'sleep 600');
    const spec = JSON.parse(await fs.readFile(path.join(t.info.bundle, 'config.json'), 'utf8')) as { mounts: { destination: string; source: string; type: string }[]; linux: { maskedPaths: string[] } };
    const empty = path.join(pair.h.stateDir, 'empty');
    expect(spec.mounts.find((m) => m.destination === '/sys/firmware')).toMatchObject({ type: 'bind', source: empty });
    expect(spec.linux.maskedPaths).not.toContain('/sys/firmware');
    expect(spec.linux.maskedPaths).toContain('/proc/acpi');
    expect(await probe(t)).toEqual(MASKED);
    expect(await fs.readdir(empty)).toEqual([]);
    expect((await fs.stat(empty)).mode & 0o7777).toBe(0o555);
  });

  it('CRIU archives no tmpfs for it, and the restored task has the bind again, still empty and read-only', async () => {
    const t = await runSh(pair.h, 'sleep 600');
    const dir = path.join(ckRoot(), uid('ck'));
    const ck = await t.checkpoint(dir);
    const dump = await fs.readFile(ck.criuLog, 'utf8');
    // CRIU lists the mounts it found; the masked /proc/acpi is still a tmpfs, /sys/firmware no longer is.
    expect(dump).toMatch(/type tmpfs source \S+ mnt_id \d+ s_dev \S+ \/ @ \.\/proc\/acpi/);
    expect(dump).not.toMatch(/type tmpfs source \S+ mnt_id \d+ s_dev \S+ \S+ @ \.\/sys\/firmware/);
    const r = await pair.h.tm.restore({ id: uid('r'), from: dir });
    expect(await probe(r)).toEqual(MASKED);
    expect(await fs.readdir(path.join(pair.h.stateDir, 'empty'))).toEqual([]);
  });

  it('an image with the tmpfs mask restores on a node with binds, and a node without binds refuses an image that needs one', async () => {
    // Taken with runc's tmpfs mask (an older node): CRIU brings its tmpfs back.
    const r = await restoredOn(await runSh(pair.old, 'sleep 600'), pair.h, ckRoot());
    expect(await probe(r)).toEqual(MASKED);
    // Taken with the bind: a node that has no empty directory cannot give the task its mask.
    await expectImageRefused(await runSh(pair.h, 'sleep 600'), pair.old, ckRoot(), 'masks /sys/firmware with an empty directory');
  });
});
