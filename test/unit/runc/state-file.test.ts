import fs from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import { readProcStat } from '../../../src/os/proc.js';
import { readRuncState } from '../../../src/runc/state-file.js';
import { useTempDir } from '../../helpers/temp-dir.js';

const dir = useTempDir('stasis-state-file');

/** Writes a state.json the way runc does (a new file renamed over the old one). */
async function writeState(root: string, id: string, o: { labels: string[]; freezer: string }): Promise<void> {
  const self = (await readProcStat(process.pid))!;
  const state = {
    id,
    init_process_pid: process.pid,
    init_process_start: self.startTime,
    created: '2026-12-03T00:00:00Z',
    config: { rootfs: '/r', labels: o.labels, seccomp: { syscalls: Array.from({ length: 50 }, (_, i) => ({ names: [`s${i}`], action: 'SCMP_ACT_ALLOW' })) } },
    cgroup_paths: { freezer: o.freezer },
  };
  const file = path.join(root, id, 'state.json');
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(`${file}.tmp`, JSON.stringify(state));
  await fs.rename(`${file}.tmp`, file);
}

it('reads a state file once per version: a rewrite by rename is read again, an unchanged one is not parsed again', async () => {
  const root = path.join(dir(), 'runc');
  const freezer = path.join(dir(), 'freezer');
  await fs.mkdir(freezer);
  await fs.writeFile(path.join(freezer, 'freezer.state'), 'THAWED\n');
  await writeState(root, 'c1', { labels: ['bundle=/b1', 'a=1'], freezer });
  const first = await readRuncState(root, 'c1');
  expect(first).toMatchObject({ id: 'c1', pid: process.pid, status: 'running', bundle: '/b1', annotations: { a: '1' }, rootfs: '/r' });

  const parse = JSON.parse;
  let parses = 0;
  JSON.parse = ((...a: Parameters<typeof JSON.parse>) => (parses++, parse(...a))) as typeof JSON.parse;
  try {
    expect(await readRuncState(root, 'c1')).toEqual(first);
    expect(parses).toBe(0);
    // The status is read afresh every time (the freezer), whatever was kept of the file.
    await fs.writeFile(path.join(freezer, 'freezer.state'), 'FROZEN\n');
    expect(await readRuncState(root, 'c1')).toMatchObject({ status: 'paused' });
    expect(parses).toBe(0);
    // runc rewrote it: read again.
    await writeState(root, 'c1', { labels: ['bundle=/b2'], freezer });
    expect(await readRuncState(root, 'c1')).toMatchObject({ bundle: '/b2', annotations: {}, status: 'paused' });
    expect(parses).toBe(1);
  } finally {
    JSON.parse = parse;
  }

  // Torn or missing: cannot tell, or no such container.
  await fs.writeFile(path.join(root, 'c1', 'state.json.tmp'), '{"init_process_pid": 1');
  await fs.rename(path.join(root, 'c1', 'state.json.tmp'), path.join(root, 'c1', 'state.json'));
  expect(await readRuncState(root, 'c1')).toBeUndefined();
  await fs.rm(path.join(root, 'c1', 'state.json'));
  expect(await readRuncState(root, 'c1')).toBeUndefined();
  expect(await readRuncState(root, 'c2')).toBeNull();
});
