import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { describeWithHost } from '../../helpers/host.js';
import { openFsCheckpointStore } from '../../../src/checkpoint/fs-store.js';
import type { HostInfo } from '../../../src/checkpoint/manifest.js';
import { loadRunnerConfig } from '../../../src/config/runner.js';
import { CheckpointFlow, storeJobIdFor } from '../../../src/queue/checkpoint-flow.js';
import { readLineage, writeLineage, emptyLineage } from '../../../src/queue/lineage.js';
import { parseJobPayload } from '../../../src/queue/job-schema.js';
import { queueName, startTestRedis, type TestRedis } from '../queue/harness.js';
import { tmpDir } from './nodes.js';

const here: HostInfo = {
  arch: 'x64',
  kernel: { release: '6.1.0-13-amd64' },
  criu: { version: '4.1.1' },
  runc: { version: '1.1.5' },
  cpu: { vendor: 'GenuineIntel', model: 'Xeon', flags: ['sse4_2', 'avx2'] },
};

describeWithHost(['redis-server'], 'migration: compatibility before claiming', () => {
  let redis: TestRedis;
  let commands: Redis;
  let store: string;
  beforeAll(async () => {
    redis = await startTestRedis();
    commands = new Redis(redis.options);
    store = tmpDir('stm-compat-');
  });
  afterAll(async () => {
    commands.disconnect();
    fs.rmSync(store, { recursive: true, force: true });
    await redis.stop();
  });

  it('a node hands back a checkpoint it cannot restore, saying why, and the job fails once no node could take it', async () => {
    const queue = queueName();
    const jobId = '7';
    // A checkpoint taken on another kernel with AVX-512.
    const other = await openFsCheckpointStore({ root: store, nodeId: 'A', host: { ...here, kernel: { release: '6.18.44-fc' }, cpu: { ...here.cpu, flags: ['avx512f'] } } });
    const pending = await other.allocate(storeJobIdFor(queue, jobId));
    fs.writeFileSync(path.join(pending.path, 'placeholder'), 'x');
    const ck = await other.commit(pending, { rootfs: { path: '/', digest: 'sha256:0' } });
    const lineage = { ...emptyLineage(0), hop: 1, nodes: ['A'], resume: { seq: ck.seq, nodeId: 'A', at: ck.manifest.createdAt, path: ck.path, reason: 'migrate', namespace: 'default', storeJobId: ck.jobId } };
    await writeLineage(commands, { queue }, jobId, lineage);

    const config = loadRunnerConfig({ queue, nodeId: 'B', checkpointDir: store, maxHandBacks: 2 }, {});
    const flow = new CheckpointFlow(config, commands, { queue }, { criu: 'criu', runc: 'runc' }, here);
    const payload = parseJobPayload({ command: ['true'] });
    const first = await flow.claim(jobId, payload, 0);
    expect(first.kind).toBe('hand-back');
    if (first.kind !== 'hand-back') return;
    expect(first.why).toContain('The checkpoint was taken on kernel 6.18.44-fc, but this host runs kernel 6.1.0-13-amd64.');
    expect(first.why).toContain('lacks the feature the checkpointed process may use: avx512f');
    expect(first.lineage.handBacks).toBe(1);
    // (handBack() writes the lineage; do it by hand here, without a BullMQ job.)
    await writeLineage(commands, { queue }, jobId, first.lineage);
    const second = await flow.claim(jobId, payload, 0);
    expect(second.kind).toBe('hand-back');
    if (second.kind === 'hand-back') await writeLineage(commands, { queue }, jobId, second.lineage);
    const third = await flow.claim(jobId, payload, 0);
    expect(third.kind).toBe('fail');
    if (third.kind === 'fail') expect(third.message).toMatch(/^ERR_CHECKPOINT: no node could take job after 2 hand-backs: node B: cannot restore checkpoint #1: The checkpoint was taken on kernel/);
    // A compatible node claims it: hop 2, restoring the marker.
    await writeLineage(commands, { queue }, jobId, lineage);
    const ok = new CheckpointFlow({ ...config, nodeId: 'C' }, commands, { queue }, { criu: 'criu', runc: 'runc' }, { ...here, kernel: { release: '6.18.44-fc' }, cpu: { ...here.cpu, flags: ['avx512f'] } });
    const claim = await ok.claim(jobId, payload, 0);
    expect(claim).toMatchObject({ kind: 'run', restoreWhy: 'resume', restore: { seq: ck.seq, storeJobId: ck.jobId } });
    expect((await readLineage(commands, { queue }, jobId)).nodes).toEqual(['A', 'C']);
  });

  it('a job reserved for another node is handed back; a retry (new attempt) drops the resume marker', async () => {
    const queue = queueName();
    const config = loadRunnerConfig({ queue, nodeId: 'B', checkpointDir: store }, {});
    const flow = new CheckpointFlow(config, commands, { queue }, { criu: 'criu', runc: 'runc' }, here);
    const payload = parseJobPayload({ command: ['true'] });
    const resume = { seq: 1, nodeId: 'A', at: new Date().toISOString(), path: '/nowhere', reason: 'migrate', namespace: 'default', storeJobId: 'x' };
    await writeLineage(commands, { queue }, '1', { ...emptyLineage(0), hop: 1, nodes: ['A'], target: 'C', resume });
    const c = await flow.claim('1', payload, 0);
    expect(c).toMatchObject({ kind: 'hand-back', why: 'reserved for node C' });
    await writeLineage(commands, { queue }, '2', { ...emptyLineage(0), hop: 1, nodes: ['A'], resume });
    const retry = await flow.claim('2', payload, 1);
    expect(retry.kind).toBe('run');
    if (retry.kind === 'run') {
      expect(retry.restore).toBeUndefined();
      expect(retry.lineage).toMatchObject({ attempt: 1, hop: 1, nodes: ['A', 'B'] });
    }
  });
});
