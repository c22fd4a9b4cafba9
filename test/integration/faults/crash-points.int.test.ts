/**
 * A runner SIGKILLed at each point of a job's life (STASIS_FAILPOINTS), then restarted with the same
 * node id and state dir: every job ends with one result, its real exit status and ExitedAt, and a
 * job whose container was created or still running is never run from scratch.
 */
import { expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import type { FailpointName } from '../../../src/os/failpoint.js';
import type { JobResult } from '../../../src/queue/result.js';
import { producer, queueName } from '../queue/harness.js';
import { completions, expectCleanNode, useFaultCluster } from './harness.js';

const JOB = ['sh', '-c', 'echo start; sleep 1; echo done; exit 3'];

describeWithHost(['runc', 'conmon', 'criu', 'root', 'busybox', 'redis-server'], 'faults: a runner SIGKILLed at each point of a job', () => {
  const c = useFaultCluster();

  /** What the restarted node must have found, and how the job's times relate to the crash. */
  const cases: { point: FailpointName | 'running'; found: 'adopted' | 'discarded' | null; exited: 'before-crash' | 'after-restart' | 'either' }[] = [
    { point: 'create:before', found: null, exited: 'after-restart' },
    { point: 'create:after', found: 'adopted', exited: 'after-restart' },
    { point: 'running', found: 'adopted', exited: 'either' },
    { point: 'exit:before-post', found: 'adopted', exited: 'before-crash' },
    { point: 'post:after', found: 'discarded', exited: 'before-crash' },
  ];

  for (const k of cases) {
    it(`${k.point}: one result, the real exit status and ExitedAt, nothing left behind`, async () => {
      const queue = queueName();
      const first = await c.node('A', queue, k.point === 'running' ? {} : { failpoints: [k.point] });
      const p = await producer(c.redis, queue);
      try {
        const job = await p.queue.add('j', { command: JOB });
        if (k.point === 'running') {
          await new Promise<void>((resolve) => p.events.on('progress', ({ jobId }) => jobId === job.id && resolve()));
          first.n.child.kill('SIGKILL');
        }
        expect(await first.n.exited).toBeNull(); // killed by its crash point, not exited
        const crashedAt = Date.now();
        const again = await c.node('A', queue, { dir: first.dir });
        const restartedAt = Date.now();
        const rec = again.n.ready.recovery;
        if (k.found === 'adopted') expect(rec.adopted).toHaveLength(1);
        if (k.found === 'discarded') expect(rec.discarded).toHaveLength(1);
        if (k.found === null) expect([...rec.adopted, ...rec.orphaned, ...rec.discarded]).toEqual([]);

        const r = (await job.waitUntilFinished(p.events, 60_000)) as JobResult;
        expect(r).toMatchObject({ status: 'exited', reason: 'exited', exitStatus: 3, stdout: 'start\ndone\n', attempt: 0 });
        const exitedAt = Date.parse(r.exitedAt!);
        if (k.exited === 'before-crash') expect(exitedAt).toBeLessThanOrEqual(crashedAt);
        if (k.exited === 'after-restart') expect(exitedAt).toBeGreaterThanOrEqual(restartedAt - 1000);
        // Never run from scratch: the container that was created or running before the crash finished.
        if (k.point !== 'create:before') expect(Date.parse(r.startedAt!)).toBeLessThan(crashedAt);
        await new Promise((res) => setTimeout(res, 500)); // a second post, if there were one, lands by now
        expect(await completions(c.redis, queue, job.id!)).toBe(1);
        expect((await p.queue.getJob(job.id!))!.attemptsMade).toBe(1);
        expect(await expectCleanNode(again.n, again.dir)).toEqual({ tasks: [], monitors: [], mounts: [] });
      } finally {
        await p.close();
      }
    }, 90_000);
  }
});
