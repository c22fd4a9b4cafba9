import fs from 'node:fs/promises';
import path from 'node:path';
import { expect, it } from 'vitest';
import { deleteStopped } from '../../../src/runc/fast-delete.js';
import { readDeleteFacts } from '../../../src/runc/state-file.js';
import { useTempDir } from '../../helpers/temp-dir.js';

const dir = useTempDir('stasis-fast-delete');

/** A stopped container's state dir as runc leaves it (its init pid is this process, its start time another's). */
async function writeStopped(root: string, id: string, namespaces: { type: string; path?: string }[], extra: string[] = []): Promise<string> {
  const freezer = path.join(dir(), `freezer-${id}`);
  await fs.mkdir(freezer, { recursive: true });
  await fs.writeFile(path.join(freezer, 'freezer.state'), 'THAWED\n');
  const state = {
    id,
    init_process_pid: process.pid,
    init_process_start: '1',
    created: '2026-12-04T00:00:00Z',
    config: { rootfs: '/r', labels: ['bundle=/b'], namespaces },
    cgroup_paths: { freezer },
  };
  const d = path.join(root, id);
  await fs.mkdir(d, { recursive: true });
  await fs.writeFile(path.join(d, 'state.json'), JSON.stringify(state));
  for (const f of extra) await fs.writeFile(path.join(d, f), '');
  return d;
}

it('removes a stopped container with a pid namespace of its own, parsing its state.json once', async () => {
  const root = path.join(dir(), 'runc');
  const d = await writeStopped(root, 'c1', [{ type: 'NEWPID' }, { type: 'NEWNS' }]);
  // Outside /sys/fs/cgroup: not a cgroup dir this may remove.
  expect(readDeleteFacts(root, 'c1')).toEqual({ cgroups: [], privatePid: true });
  const parse = JSON.parse;
  let parses = 0;
  JSON.parse = ((...a: Parameters<typeof JSON.parse>) => (parses++, parse(...a))) as typeof JSON.parse;
  try {
    expect(await deleteStopped(root, 'c1')).toBe(true);
  } finally {
    JSON.parse = parse;
  }
  expect(parses).toBe(0); // read above, kept
  await expect(fs.stat(d)).rejects.toMatchObject({ code: 'ENOENT' });
  expect(await deleteStopped(root, 'c1')).toBe(true); // unknown: nothing to do
});

it('removes a state dir holding more than state.json the long way', async () => {
  const root = path.join(dir(), 'runc');
  const d = await writeStopped(root, 'c2', [{ type: 'NEWPID' }], ['stray']);
  expect(await deleteStopped(root, 'c2')).toBe(true);
  await expect(fs.stat(d)).rejects.toMatchObject({ code: 'ENOENT' });
});

it('leaves a container sharing a pid namespace to runc', async () => {
  const root = path.join(dir(), 'runc');
  const d = await writeStopped(root, 'c3', [{ type: 'NEWPID', path: '/proc/1/ns/pid' }]);
  expect(readDeleteFacts(root, 'c3')?.privatePid).toBe(false);
  expect(await deleteStopped(root, 'c3')).toBe(false);
  await fs.stat(d);
});
