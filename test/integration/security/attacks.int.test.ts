/**
 * The hostile-workload suite: an attacker with two powers, adding jobs to the queue (a producer) and
 * running code inside a job, tries each attack of docs/security.md against a real runner node. Each
 * test asserts the attack fails AND the host is untouched.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Job } from 'bullmq';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRunner, type Runner } from '../../../src/node/runner.js';
import { loadPolicy } from '../../../src/policy/load.js';
import type { JobResult } from '../../../src/queue/result.js';
import { ensureBusyboxRootfs } from '../../../src/sandbox/busybox.js';
import { describeWithHost } from '../../helpers/host.js';
import { stateDirTag } from '../../../src/runtime/ids.js';
import { taskIdFor } from '../../../src/queue/run-spec.js';
import { leftoverTasks, producer, queueName, startTestRedis, wipeState, type TestRedis } from '../queue/harness.js';
import { removeSeccompProbe, seccompProbe } from './probe.js';

let redis: TestRedis;
let runner: Runner | null = null;
let dir: string;
let state: string;
let images: string;
let prod: Awaited<ReturnType<typeof producer>>;

async function run(data: Record<string, unknown>, opts: { attempts?: number } = {}): Promise<{ job: Job; result?: JobResult; error?: Error }> {
  const job = await prod.queue.add('attack', data, { attempts: opts.attempts ?? 1 });
  try {
    return { job, result: (await job.waitUntilFinished(prod.events, 60_000)) as JobResult };
  } catch (e) {
    return { job, error: e as Error };
  }
}

async function refused(data: Record<string, unknown>): Promise<string> {
  const { job, error } = await run(data, { attempts: 3 });
  expect(error, 'the job should have failed').toBeDefined();
  const j = (await Job.fromId(prod.queue, job.id!))!;
  expect(j.attemptsMade).toBe(1);
  return j.failedReason;
}

describeWithHost(['runc', 'conmon', 'criu', 'root', 'busybox', 'redis-server'], 'security: hostile producers and jobs against a runner node', () => {
  beforeAll(async () => {
    redis = await startTestRedis();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stasis-attack-'));
    await fs.chmod(dir, 0o711);
    state = path.join(dir, 'state');
    images = path.join(dir, 'images');
    await fs.mkdir(images);
    const queue = queueName();
    runner = await startRunner({
      connection: redis.options,
      runtime: { stateDir: state },
      runner: { queue, nodeId: 'sec', concurrency: 2, statsIntervalMs: 200, checkpointDir: path.join(dir, 'store') },
      policy: loadPolicy({ allowRootfs: [images] }, {}),
      env: {},
    });
    prod = await producer(redis, queue);
  });

  afterAll(async () => {
    await prod?.close();
    await runner?.close();
    if (state) expect(await leftoverTasks(state)).toEqual([]);
    if (state) await wipeState(state);
    if (dir) await fs.rm(dir, { recursive: true, force: true });
    await removeSeccompProbe();
    await redis?.stop();
  });

  it('a rootfs that plants /.stasis as a symlink to a host directory cannot make the node write there', async () => {
    // The lower rootfs is the producer's choice within the allowed roots; the node writes the launch
    // script only into its own job dir, and runc resolves mount points inside the rootfs.
    const victim = path.join(dir, 'victim');
    await fs.mkdir(victim);
    await fs.writeFile(path.join(victim, 'run'), 'untouched\n', { mode: 0o600 });
    const evil = path.join(images, 'evil');
    await fs.cp(await ensureBusyboxRootfs(path.join(dir, 'bb', 'rootfs')), evil, { recursive: true, verbatimSymlinks: true });
    await fs.symlink(victim, path.join(evil, '.stasis'));
    for (let i = 0; i < 2; i++) {
      const { result } = await run({ command: ['sh', '-c', 'echo ran; cat /.stasis/job/run | head -1'], rootfs: evil, env: { SECRET: 'x\nexec rm -rf /' } });
      expect(result?.stdout.split('\n')[0]).toBe('ran');
    }
    expect(await fs.readFile(path.join(victim, 'run'), 'utf8')).toBe('untouched\n');
    expect(await fs.readdir(victim)).toEqual(['run']);
  });

  it("a job cannot turn its own upper dir into another job's rootfs (the state dir is never a rootfs)", async () => {
    const { result } = await run({ command: ['sh', '-c', 'grep -o "upperdir=[^,]*" /proc/self/mountinfo | head -1 | cut -d= -f2'] });
    const upper = result!.stdout.trim();
    expect(upper).toContain(state);
    const reason = await refused({ command: ['true'], rootfs: upper });
    expect(reason).toMatch(/^ERR_PERMISSION_DENIED: rootfs `.*` is outside the allowed roots/);
  });

  it('rootfs `/`, a relative path, a symlink to `/` and the state dir are refused at once, naming the rule', async () => {
    expect(await refused({ command: ['cat', '/etc/shadow'], rootfs: '/' })).toContain('ERR_PERMISSION_DENIED: rootfs `/` is outside the allowed roots');
    expect(await refused({ command: ['true'], rootfs: '../..' })).toContain('ERR_INVALID_ARGUMENT');
    await fs.symlink('/', path.join(images, 'root-link'));
    expect(await refused({ command: ['true'], rootfs: path.join(images, 'root-link') })).toContain('resolves to /, outside the allowed roots');
    expect(await refused({ command: ['true'], rootfs: state })).toContain('ERR_PERMISSION_DENIED');
  });

  it('host networking is refused unless the operator allows it', async () => {
    expect(await refused({ command: ['true'], network: 'host' })).toContain('ERR_PERMISSION_DENIED: `network` "host" is not allowed on this node');
  });

  it('reserved annotations cannot be set by a producer', async () => {
    expect(await refused({ command: ['true'], annotations: { 'io.stasis.job.timeout': '1' } })).toContain('the `io.stasis.` prefix is reserved to the node');
    // runc gives CRIU the file this names as its configuration, whose settings win (action-script runs as host root).
    expect(await refused({ command: ['true'], annotations: { 'org.criu.config': '/tmp/x.conf' } })).toContain(
      'ERR_PERMISSION_DENIED: `annotations.org.criu.config`: the `org.criu.` prefix is read by the container runtime and reserved to the node',
    );
    expect(await refused({ command: ['true'], annotations: { 'Org.Systemd.property.Delegate': 'yes' } })).toContain('the `org.systemd.` prefix is read by the container runtime');
  });

  it('limits above the node maximum are refused; a payload without limits gets the defaults', async () => {
    expect(await refused({ command: ['true'], limits: { memory: '64g' } })).toContain("`limits.memory` 64GiB is above the node's maximum");
    const job = await prod.queue.add('defaults', { command: ['sleep', '3'] });
    const cg = `stasis/${stateDirTag(state)}+default+${taskIdFor(job.id!, 0)}`;
    const read = (f: string) => fs.readFile(`/sys/fs/cgroup/${f}`, 'utf8').then((t) => t.trim(), () => undefined);
    // runc makes the cgroup, then writes one limit after another: poll until they all read as the
    // defaults (a read of a limit not written yet sees the kernel's unlimited value), then compare.
    const want = [String(512 * 1024 * 1024), '512', '100000'];
    let seen: (string | undefined)[] = [];
    for (let i = 0; i < 100; i++) {
      seen = [await read(`memory/${cg}/memory.limit_in_bytes`), await read(`pids/${cg}/pids.max`), await read(`cpu/${cg}/cpu.cfs_quota_us`)];
      if (seen.every((v, k) => v === want[k])) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(seen).toEqual(want);
    await job.waitUntilFinished(prod.events, 30_000);
  });

  it('container root is not host root: the job runs in a user namespace mapped to an unprivileged range', async () => {
    const { result } = await run({ command: ['sh', '-c', 'cat /proc/self/uid_map; id -u'] });
    const [map, uid] = result!.stdout.trim().split('\n');
    expect(map!.trim().split(/\s+/)).toEqual(['0', '1073741824', '65536']);
    expect(uid).toBe('0');
  });

  it('each blocked syscall returns EPERM to a job (the default seccomp profile, through the runner)', async () => {
    const probeDir = path.join(images, 'probe');
    await fs.cp(await ensureBusyboxRootfs(path.join(dir, 'bb', 'rootfs')), probeDir, { recursive: true, verbatimSymlinks: true });
    await fs.copyFile(await seccompProbe(), path.join(probeDir, 'probe'));
    await fs.chmod(path.join(probeDir, 'probe'), 0o755);
    const names = ['keyctl', 'add_key', 'request_key', 'perf_event_open', 'io_uring_setup', 'bpf', 'unshare', 'clone-newuser', 'mount', 'personality-unsafe', 'kexec_load', 'userfaultfd', 'ptrace-attach'];
    const { result } = await run({ command: ['/probe', ...names], rootfs: probeDir });
    const seen = Object.fromEntries(result!.stdout.trim().split('\n').map((l) => l.split(' ') as [string, string]));
    expect(seen).toEqual(Object.fromEntries(names.map((n) => [n, '1'])));
  });

  it("the node's Redis and state dir are out of a job's reach", async () => {
    const { result } = await run({ command: ['sh', '-c', `ls ${state} 2>&1; nc -w 1 127.0.0.1 ${redisPort()} </dev/null && echo connected || echo refused; ls /proc/1/root/ | head -3`] });
    expect(result!.stdout).toContain('No such file or directory');
    expect(result!.stdout).toContain('refused');
    expect(result!.stdout).not.toContain('connected');
  });

  it('symlinks a job plants in its files survive a checkpoint, its tar and a restore as symlinks: the node never follows them', async () => {
    const marker = path.join(dir, `keep-${randomUUID().slice(0, 6)}`);
    await fs.writeFile(marker, 'keep\n');
    const plant = `ln -s ${dir} /host-link; mkdir -p /d; ln -s ${marker} /d/m; ln -s / /d/root; echo planted; sleep 3; cat /d/m 2>&1 | head -1`;
    const first = await run({ command: ['sh', '-c', plant], checkpoint: { everySeconds: 1 } });
    expect(first.result!.checkpoints.length).toBeGreaterThan(0);
    // A template restore extracts the checkpoint's rootfs diff (the job's own files) on this node.
    const again = await run({ command: ['true'], restoreFrom: { jobId: first.job.id! } });
    expect(again.result!.reason).toBe('exited');
    expect(await fs.readFile(marker, 'utf8')).toBe('keep\n');
    expect((await fs.lstat(marker)).isFile()).toBe(true);
  });

  it('restoreFrom.path outside the checkpoint store, or of another namespace, is refused', async () => {
    expect(await refused({ command: ['true'], restoreFrom: { path: '/etc' } })).toContain('ERR_PERMISSION_DENIED');
    expect(await refused({ command: ['true'], restoreFrom: { path: path.join(dir, 'store', 'other', 'x', '00000001') } })).toContain('own namespace');
    expect(await refused({ command: ['true'], restoreFrom: { jobId: '1', namespace: 'other' } })).toContain('own namespace');
  });
});

function redisPort(): number {
  const m = /:(\d+)/.exec(redis.url);
  return m ? Number(m[1]) : 6379;
}
