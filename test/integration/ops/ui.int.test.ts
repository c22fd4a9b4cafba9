import fs from 'node:fs';
import { expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import { useFaultCluster } from '../faults/harness.js';
import { producer, queueName } from '../queue/harness.js';
import type { JobResult } from '../../../src/queue/result.js';
import { baseUrl, get } from './http.js';
import { artifactPath, keepArtifact, renderPage } from './browser.js';

describeWithHost(['runc', 'conmon', 'criu', 'root', 'busybox', 'redis-server', 'chromium'], 'operations: the dashboard', () => {
  const c = useFaultCluster();

  it('the read-only board loads in headless Chromium and shows the queue with its finished job; a big output is cut for display', async () => {
    const queue = queueName();
    const a = await c.node('A', queue, { extra: ['--http', '127.0.0.1:0', '--ui'] });
    const p = await producer(c.redis, queue);
    const png = artifactPath(`ui-${queue}.png`);
    let passed = false;
    try {
      const job = await p.queue.add('big-output', { command: ['sh', '-c', "echo first-line; head -c 300000 /dev/zero | tr '\\0' x"] });
      const r = (await job.waitUntilFinished(p.events, 60_000)) as JobResult;
      expect(r.stdout.length).toBe('first-line\n'.length + 300_000);

      const dom = await renderPage(`${baseUrl(a.n)}/ui/queue/${queue}?status=completed`, png);
      expect(dom).toContain(queue);
      expect(dom).toContain('big-output');
      expect(fs.statSync(png).size).toBeGreaterThan(10_000);

      // The board's API (what the page fetched) carries the envelope with its stdout cut to 16 KiB.
      const api = await get(`${baseUrl(a.n)}/ui/api/queues?activeQueue=${queue}&status=completed&page=1`);
      expect(api.status).toBe(200);
      const shown = (JSON.parse(api.text) as { queues: { name: string; jobs: { id: string; returnValue: JobResult }[] }[] }).queues.find((q) => q.name === queue)!;
      const env = shown.jobs.find((j) => j.id === job.id)!.returnValue;
      expect(env.stdout.startsWith('first-line\nxxx')).toBe(true);
      expect(env.stdout.length).toBeLessThan(17_000);
      expect(env.stdout).toContain('more characters not shown here');
      expect((await p.queue.getJob(job.id!))!.returnvalue.stdout.length).toBe(r.stdout.length); // Redis keeps it all

      // Read-only: no action goes through, and the page may load nothing from another host.
      for (const [method, path] of [['PUT', `/ui/api/queues/${queue}/pause`], ['PUT', `/ui/api/queues/${queue}/${job.id}/clean`], ['POST', `/ui/api/queues/${queue}/add`]] as const) {
        expect((await get(`${baseUrl(a.n)}${path}`, { method })).status).toBe(405);
      }
      expect(await p.queue.isPaused()).toBe(false);
      expect(await p.queue.getJob(job.id!)).toBeDefined();
      const page = await get(`${baseUrl(a.n)}/ui/`);
      expect(page.text).not.toMatch(/href="(https?:)?\/\//);
      passed = true;
    } finally {
      await p.close();
      keepArtifact(png, passed);
    }
  }, 180_000);

  it('without --ui there is no board', async () => {
    const queue = queueName();
    const a = await c.node('A', queue, { extra: ['--http', '127.0.0.1:0'] });
    expect((await get(`${baseUrl(a.n)}/ui`)).status).toBe(404);
  }, 60_000);
});
