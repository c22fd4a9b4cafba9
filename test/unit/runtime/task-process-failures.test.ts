import fs from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { readJson, readMarker, readTaskRecord } from '../../../src/runtime/records.js';
import type { Status, Task } from '../../../src/runtime/task.js';
import { fakeTasks } from '../../helpers/fake-task-dir.js';
import type { RuncFailure, RuncVerb } from '../../helpers/fake-runc.js';

const open = fakeTasks();

interface Case {
  status: Status;
  verb: RuncVerb;
  kind: RuncFailure;
  code: string;
  /** The façade call; `dir` is a fresh checkpoint directory. */
  call: (task: Task, dir: string) => Promise<unknown>;
}

const CASES: Case[] = [
  { status: 'created', verb: 'start', kind: 'runtime', code: 'ERR_RUNTIME', call: (x) => x.start() },
  { status: 'running', verb: 'pause', kind: 'runtime', code: 'ERR_RUNTIME', call: (x) => x.pause() },
  { status: 'paused', verb: 'resume', kind: 'precondition', code: 'ERR_FAILED_PRECONDITION', call: (x) => x.resume() },
  { status: 'running', verb: 'kill', kind: 'runtime', code: 'ERR_RUNTIME', call: (x) => x.kill('KILL') },
  { status: 'paused', verb: 'update', kind: 'runtime', code: 'ERR_RUNTIME', call: (x) => x.update({ pids: 7 }) },
  { status: 'running', verb: 'checkpoint', kind: 'checkpoint', code: 'ERR_CHECKPOINT', call: (x, dir) => x.checkpoint(dir, { rootfsDiff: false }) },
  { status: 'stopped', verb: 'delete', kind: 'runtime', code: 'ERR_RUNTIME', call: (x) => x.delete() },
];

describe('TaskProcess when runc fails', () => {
  for (const c of CASES) {
    it(`a failed runc ${c.verb} leaves a ${c.status} task ${c.status}, with runc's error (${c.code})`, async () => {
      const t = await open({ status: c.status });
      t.runc.fail(c.verb, c.kind);
      await expect(c.call(t.task, t.scratch('ck'))).rejects.toMatchObject({ code: c.code, details: { runtimeError: expect.any(String) } });
      expect((await t.task.state()).status).toBe(c.status);
    });
  }

  it('a failed start records no start time', async () => {
    const t = await open({ status: 'created' });
    t.runc.fail('start', 'runtime');
    await expect(t.task.start()).rejects.toThrow(/runc start/);
    expect((await readTaskRecord(t.paths.record))?.startedAt).toBeUndefined();
  });

  it('a failed pause removes its pausing marker', async () => {
    const t = await open({ status: 'running' });
    t.runc.fail('pause', 'runtime');
    await expect(t.task.pause()).rejects.toMatchObject({ code: 'ERR_RUNTIME' });
    expect(await readMarker(t.paths.markersDir, 'pausing')).toBeUndefined();
  });

  it('a failed update changes neither the spec nor the limits on disk', async () => {
    const t = await open({ status: 'running' });
    const spec = await readJson(t.paths.spec);
    t.runc.fail('update', 'runtime');
    await expect(t.task.update({ pids: 7 })).rejects.toMatchObject({ code: 'ERR_RUNTIME' });
    expect(await readJson(t.paths.spec)).toEqual(spec);
    expect((await readTaskRecord(t.paths.record))?.limits).toEqual({ pids: 100 });
  });

  it('a failed delete keeps the task dir, and deleting again succeeds', async () => {
    const t = await open({ status: 'stopped', exitStatus: 4 });
    t.runc.fail('delete', 'runtime');
    await expect(t.task.delete()).rejects.toMatchObject({ code: 'ERR_RUNTIME' });
    expect((await fs.stat(t.paths.dir)).isDirectory()).toBe(true);
    expect(await t.task.delete()).toMatchObject({ status: 4 });
    expect((await t.task.state()).status).toBe('deleted');
  });
});
