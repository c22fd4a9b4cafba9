import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withLock } from '../../../src/runtime/lock.js';
import { readJson, writeJsonAtomic } from '../../../src/runtime/records.js';

describe('task locks and records on disk', () => {
  let dir: string;
  beforeAll(async () => void (dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stasis-rt-lock-'))));
  afterAll(() => fs.rm(dir, { recursive: true, force: true }));

  it('withLock() runs sections of one lock one at a time and releases the file', async () => {
    const file = path.join(dir, 'a.lock');
    const log: string[] = [];
    const section = (name: string) =>
      withLock(file, async () => {
        log.push(`${name}+`);
        await new Promise((r) => setTimeout(r, 30));
        log.push(`${name}-`);
      });
    await Promise.all([section('a'), section('b'), section('c')]);
    expect(log).toEqual(['a+', 'a-', 'b+', 'b-', 'c+', 'c-']);
    await expect(fs.access(file)).rejects.toThrow();
  });

  it('a failing section releases the lock for the next one', async () => {
    const file = path.join(dir, 'b.lock');
    await expect(withLock(file, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await withLock(file, async () => 'next')).toBe('next');
  });

  it('takes over a lock left by a dead process', async () => {
    const file = path.join(dir, 'c.lock');
    const child = spawn('true');
    await new Promise((r) => child.once('exit', r));
    await fs.writeFile(file, `${child.pid} 0 ${Date.now()}\n`);
    expect(await withLock(file, async () => 'taken', 2_000)).toBe('taken');
  });

  it('waits for a live holder and gives up with ERR_UNAVAILABLE', async () => {
    const file = path.join(dir, 'd.lock');
    const child = spawn('sleep', ['30']);
    try {
      await fs.writeFile(file, `${child.pid} 0 ${Date.now()}\n`);
      await expect(withLock(file, async () => 'never', 300)).rejects.toMatchObject({ code: 'ERR_UNAVAILABLE' });
    } finally {
      child.kill('SIGKILL');
      await fs.rm(file, { force: true });
    }
  });

  it('writes JSON atomically (no temporary files left, readers see whole documents)', async () => {
    const file = path.join(dir, 'rec.json');
    await Promise.all(Array.from({ length: 20 }, (_, i) => writeJsonAtomic(file, { i, pad: 'x'.repeat(10_000) })));
    const v = (await readJson(file)) as { i: number; pad: string };
    expect(v.pad.length).toBe(10_000);
    expect((await fs.readdir(dir)).filter((f) => f.startsWith('rec.json'))).toEqual(['rec.json']);
    expect(await readJson(path.join(dir, 'missing.json'))).toBeUndefined();
  });
});
