/**
 * The deployable image (Dockerfile, docs/deploy.md), built and run with podman as an operator would:
 * a Debian bookworm + Node.js base made by deploy/make-base-image.sh (Docker Hub's node:20-bookworm
 * cannot be pulled here), `podman build` of the repository's Dockerfile, then jobs in a privileged
 * container of it, with the runner's state dir on a volume and the host's cgroup namespace, as in
 * docker-compose.yml, and two runner nodes draining a job from one to the other through a shared
 * checkpoint volume. Everything podman writes lives in one temporary dir, removed afterwards.
 * Needs the Debian mirror and the npm registry (the build installs from both); takes 4-7 minutes.
 */
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PrivatePodman, describeWithPodman, startLoopbackRedis, ulimitFlags } from './podman.js';

const REPO = path.resolve(__dirname, '../../..');
const MINUTE = 60_000;

describeWithPodman('the stasis image (Dockerfile) under podman', () => {
  const id = randomUUID().slice(0, 8);
  const base = `localhost/stasis-test-base:${id}`;
  const image = `localhost/stasis-test:${id}`;
  /** The two runner nodes of the drain test, and their state dirs inside their containers. */
  const nodes = [`node-a-${id}`, `node-b-${id}`];
  let podman: PrivatePodman | undefined;

  /**
   * A privileged container of the image in the host's cgroup namespace, as docker-compose.yml runs
   * the nodes, removed on exit; no network (`stasis run` uses the embedded Redis).
   */
  const runner = (args: string[], timeout = 3 * MINUTE) =>
    podman!.run(['run', '--rm', '--privileged', '--cgroupns=host', '--network=none', ...ulimitFlags(), image, ...args], timeout);

  beforeAll(async () => {
    // This file runs beside the integration files (vitest.config.ts, project "deploy"): at nice 10
    // (this thread's, inherited by everything it starts) the build and the containers take the CPU
    // the other tests leave idle.
    os.setPriority(10);
    podman = await PrivatePodman.create(['/var/lib/stasis', ...nodes.map((n) => `/var/lib/stasis/${n}`)]);
    const engine = ['podman', ...podman.globalArgs].join(' ');
    const made = await execa(path.join(REPO, 'deploy/make-base-image.sh'), ['--tag', base], {
      env: { CONTAINER_ENGINE: engine },
      reject: false,
      all: true,
      timeout: 8 * MINUTE,
    });
    if (made.exitCode !== 0) throw new Error(`deploy/make-base-image.sh failed (exit ${made.exitCode}):\n${String(made.all).slice(-4000)}`);
    // --layers=false: one commit per stage instead of one per step; --jobs=2: the TypeScript build
    // stage runs beside the runner stage's package installs; host network: no CNI bridge is made.
    await podman.must(['build', '--layers=false', '--jobs=2', '--network=host', '--build-arg', `BASE_IMAGE=${base}`, '--tag', image, REPO], 12 * MINUTE);
  }, 21 * MINUTE);

  afterAll(async () => {
    await podman?.destroy();
  }, 5 * MINUTE);

  it('is `stasis serve` under tini by default, with the state dir declared as a volume', async () => {
    const r = await podman!.must(['image', 'inspect', '--format', '{{json .Config.Entrypoint}} {{json .Config.Cmd}} {{json .Config.Volumes}}', image]);
    expect(r.stdout).toBe('["/usr/bin/tini","--","/opt/stasis/deploy/entrypoint.sh"] ["serve"] {"/var/lib/stasis":{}}');
  });

  it("runs a job in a privileged container: `stasis run -- sh -c 'echo hi'` prints hi and exits 0", async () => {
    const r = await runner(['run', '--', 'sh', '-c', 'echo hi']);
    expect(r.stderr).toContain('CRIU ok');
    expect(r.stderr).toMatch(/stasis: job \S+ exited with status 0/);
    expect(r.stdout).toBe('hi');
    expect(r.exitCode).toBe(0);
  });

  it('checkpoints a running task with CRIU inside the container and restores it where it stopped', async () => {
    // One container: the entrypoint (its CRIU set-up, then `stasis --version`), then `stasis task`
    // commands (the image's /usr/local/bin/stasis) against its state dir.
    const script = [
      'set -eu',
      '/opt/stasis/deploy/entrypoint.sh --version >/dev/null',
      "stasis task create --id counter --memory 64m -- sh -c 'i=0; while true; do echo count $i; i=$((i+1)); sleep 0.2; done' >/dev/null",
      'stasis task start counter >/dev/null',
      'sleep 1.5',
      'stasis task checkpoint counter --image /var/lib/stasis/ckpt >/dev/null',
      'before=$(stasis task logs counter | tail -1)',
      'stasis task restore --id counter2 --from /var/lib/stasis/ckpt >/dev/null',
      'sleep 1',
      'stasis task logs counter2 >/tmp/counter2.log; first=$(head -1 /tmp/counter2.log)',
      'echo "before=$before first=$first"',
      'stasis task kill --signal KILL counter2 >/dev/null; stasis task wait counter2 >/dev/null || true',
      'stasis task delete counter2 >/dev/null; stasis task delete counter >/dev/null',
    ].join('\n');
    const r = await podman!.run(
      ['run', '--rm', '--privileged', '--cgroupns=host', '--network=none', ...ulimitFlags(), '--entrypoint', '/bin/bash', image, '-c', script],
      3 * MINUTE,
    );
    // The restored process goes on from where the dump stopped it, not from `count 0`.
    const m = /^before=count (\d+) first=count (\d+)$/.exec(r.stdout);
    expect(m, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).not.toBeNull();
    expect(Number(m![2])).toBe(Number(m![1]) + 1);
    expect(r.exitCode).toBe(0);
  });

  it('drains as `docker compose stop` does: node A checkpoints a running job into the shared volume and node B finishes it', async () => {
    const redis = await startLoopbackRedis();
    const stasis = (node: string, args: string[]) => podman!.must(['exec', node, 'stasis', ...args], MINUTE);
    try {
      // As docker-compose.yml runs them: own state volume and state dir path each, one checkpoint
      // volume, the node policy (same user-namespace range), privileged, host cgroup namespace; the
      // host network here only to reach this test's Redis on 127.0.0.1.
      for (const node of nodes) {
        await podman!.must([
          'run', '--detach', '--name', node, '--privileged', '--cgroupns=host', '--network=host', ...ulimitFlags(),
          '--env', `REDIS_URL=${redis.url}`, '--env', `STASIS_QUEUE=deploy-${id}`, '--env', `STASIS_STATE_DIR=/var/lib/stasis/${node}`,
          '--volume', `${node}-state:/var/lib/stasis`, '--volume', `checkpoints-${id}:/var/lib/stasis-checkpoints`,
          '--volume', `${path.join(REPO, 'deploy/policy.json')}:/etc/stasis/policy.json:ro`,
          image, 'serve', '--node-id', node, '--policy', '/etc/stasis/policy.json', '--checkpoint-dir', '/var/lib/stasis-checkpoints',
        ]);
      }
      for (const node of nodes) await waitForLog(node, /consuming queue/);

      const counter = 'i=0; while [ $i -lt 60 ]; do echo count $i; i=$((i+1)); sleep 0.5; done';
      const jobId = (await stasis(nodes[0]!, ['submit', '--', 'sh', '-c', counter])).stdout.trim();
      let taker = '';
      for (let i = 0; i < 120 && !taker; i++) {
        const st = JSON.parse((await stasis(nodes[0]!, ['status', '--json', jobId])).stdout) as { progress?: { status?: string; nodeId?: string } };
        if (st.progress?.status === 'running' && st.progress.nodeId) taker = st.progress.nodeId;
        else await sleep(500);
      }
      expect(nodes).toContain(taker);
      const other = nodes.find((n) => n !== taker)!;
      await sleep(3000);

      await podman!.must(['stop', '--time', '90', taker], 2 * MINUTE);
      expect((await podman!.run(['logs', taker])).all).toMatch(/"event":"drained","checkpointed":\["\d+"\]/);
      const result = JSON.parse((await stasis(other, ['result', '--wait', '--json', jobId])).stdout) as {
        nodes: string[]; reason: string; exitStatus: number; stdout: string; checkpoints: { reason: string; path: string }[];
      };
      expect(result.nodes).toEqual([taker, other]);
      expect(result).toMatchObject({ reason: 'exited', exitStatus: 0 });
      expect(result.checkpoints).toEqual([expect.objectContaining({ reason: 'drain', path: expect.stringMatching(/^\/var\/lib\/stasis-checkpoints\//) })]);
      // Node B's output goes on from where node A's dump stopped the job; it does not start over.
      expect(result.stdout).toMatch(/^count [1-9]\d*\n/);
      expect(result.stdout).toContain('count 59\n');
    } finally {
      await podman!.run(['rm', '--force', '--time', '0', ...nodes]);
      await redis.stop();
    }
  }, 6 * MINUTE);

  /** Waits until the container's output matches `re`; throws with its logs if it stopped first. */
  async function waitForLog(name: string, re: RegExp): Promise<void> {
    for (let i = 0; i < 240; i++) {
      const logs = await podman!.run(['logs', name]);
      if (re.test(logs.all)) return;
      const state = await podman!.run(['inspect', '--format', '{{.State.Running}}', name]);
      if (state.stdout.trim() !== 'true') throw new Error(`container ${name} stopped before printing ${re}:\n${logs.all}`);
      await sleep(500);
    }
    throw new Error(`container ${name} did not print ${re} within 2 minutes`);
  }
});
