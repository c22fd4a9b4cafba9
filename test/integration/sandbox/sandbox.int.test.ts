import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { applyRootfsDiff, isMounted, mountOverlay, unmountOverlay, writeRootfsDiff } from '../../../src/sandbox/rootfs.js';
import { buildSpec } from '../../../src/sandbox/spec.js';
import { launchScript, makeJobDir, writeLaunchScript } from '../../../src/sandbox/launcher.js';
import type { Limits, NetworkMode, OverlayPaths } from '../../../src/sandbox/types.js';
import { removeEmptyCgroupDir } from '../../../src/runtime/cgroups.js';
import { describeWithHost } from '../../helpers/host.js';
import { testRootfs } from '../../helpers/rootfs.js';

const RUNC = process.env.STASIS_RUNC ?? '/usr/sbin/runc';
const CGROUP_PARENT = `stasis-test-sandbox-${process.pid}`;

let dir: string;
let runcRoot: string;
let lower: string;
const overlays: string[] = [];

/** A fresh overlay (upper/work/target) under the test dir; the target is BUNDLE/rootfs. */
async function newOverlay(id: string): Promise<OverlayPaths & { bundle: string }> {
  const bundle = path.join(dir, 'bundles', id);
  const p = {
    lower,
    upper: path.join(dir, 'ov', id, 'upper'),
    work: path.join(dir, 'ov', id, 'work'),
    target: path.join(bundle, 'rootfs'),
    bundle,
  };
  await mountOverlay(p);
  overlays.push(p.target);
  return p;
}

interface RunOpts {
  limits?: Limits;
  network?: NetworkMode;
  overlay?: OverlayPaths & { bundle: string };
  /** Called while the container runs, with its cgroup path relative to a controller root. */
  during?: (cgroup: string) => Promise<void>;
}

/** Runs `args` in a fresh container with `runc run` (stdio pipes) and returns its output. */
async function run(args: string[], o: RunOpts = {}) {
  const id = `t-${randomUUID().slice(0, 8)}`;
  const ov = o.overlay ?? (await newOverlay(id));
  const cgroup = `/${CGROUP_PARENT}/${id}`;
  // The job's argv reaches the container through its launch script in a node-owned job dir.
  const jobDir = path.join(dir, 'jobs', id);
  await makeJobDir(jobDir);
  await writeLaunchScript(jobDir, launchScript({ args }), { uid: 0, gid: 0 });
  const spec = buildSpec({
    hostname: id,
    cgroupsPath: cgroup,
    ...(o.limits ? { limits: o.limits } : {}),
    ...(o.network ? { network: o.network } : {}),
    launcher: { init: '/usr/bin/tini-static', busybox: '/bin/busybox', jobDir },
  });
  await fs.writeFile(path.join(ov.bundle, 'config.json'), JSON.stringify(spec));
  const child = execa(RUNC, ['--root', runcRoot, 'run', '-b', ov.bundle, id], { reject: false, stdin: 'ignore' });
  try {
    if (o.during) await o.during(cgroup);
    const r = await child;
    return { id, ov, stdout: r.stdout, stderr: r.stderr, exitCode: r.exitCode };
  } finally {
    await child;
    await execa(RUNC, ['--root', runcRoot, 'delete', '-f', id], { reject: false });
    if (!o.overlay) await unmountOverlay(ov.target);
  }
}

async function waitForFile(p: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fs.stat(p).catch(() => undefined)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${p}`);
}

describeWithHost(['runc', 'root', 'busybox'], 'sandbox: containers from buildSpec over a per-task overlay', () => {
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stasis-sandbox-'));
    runcRoot = path.join(dir, 'runc');
    lower = await testRootfs();
  });

  afterAll(async () => {
    for (const t of overlays) await unmountOverlay(t).catch(() => undefined);
    await removeEmptyCgroupDir(CGROUP_PARENT); // every hierarchy, the unified one of a hybrid host too
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it("a task with network 'none' sees only the loopback interface, and it is up", async () => {
    const r = await run(['sh', '-c', 'cat /proc/net/dev; cat /sys/class/net/lo/operstate']);
    expect(r.exitCode, r.stderr).toBe(0);
    const ifaces = r.stdout
      .split('\n')
      .filter((l) => l.includes(':'))
      .map((l) => l.split(':')[0]!.trim());
    expect(ifaces).toEqual(['lo']);
    expect(r.stdout).toMatch(/unknown|up/);
  });

  it("a task with network 'host' sees the host's interfaces", async () => {
    const r = await run(['cat', '/proc/net/dev'], { network: 'host' });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.includes(':')).length).toBeGreaterThan(1);
  });

  it('the pids limit is enforced', async () => {
    const script = 'i=0; while [ $i -lt 40 ]; do sleep 5 & i=$((i+1)); done; echo spawned';
    const r = await run(['sh', '-c', script], { limits: { pids: 8 } });
    expect(`${r.stdout}\n${r.stderr}`).toMatch(/can't fork|Resource temporarily unavailable/);
  });

  it('the memory limit (and an equal memory+swap limit) is in the cgroup, and cpus set the CFS quota', async () => {
    const seen: Record<string, string> = {};
    const r = await run(['sleep', '1'], {
      limits: { memoryBytes: 32 * 1024 * 1024, cpus: 0.5 },
      during: async (cg) => {
        const mem = `/sys/fs/cgroup/memory${cg}`;
        await waitForFile(path.join(mem, 'memory.limit_in_bytes'));
        // runc writes the limits right after creating the directory; give it a moment.
        await new Promise((res) => setTimeout(res, 300));
        seen.limit = (await fs.readFile(path.join(mem, 'memory.limit_in_bytes'), 'utf8')).trim();
        seen.memsw = (await fs.readFile(path.join(mem, 'memory.memsw.limit_in_bytes'), 'utf8').catch(() => 'n/a')).trim();
        seen.quota = (await fs.readFile(`/sys/fs/cgroup/cpu${cg}/cpu.cfs_quota_us`, 'utf8')).trim();
      },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(seen.limit).toBe(String(32 * 1024 * 1024));
    if (seen.memsw !== 'n/a') expect(seen.memsw).toBe(String(32 * 1024 * 1024));
    expect(seen.quota).toBe('50000');
  });

  it('the hostname is the one in the spec', async () => {
    const r = await run(['hostname']);
    expect(r.stdout.trim()).toBe(r.id);
  });

  it("capabilities are reduced to docker's default set minus NET_RAW", async () => {
    const r = await run(['grep', '-E', '^Cap(Eff|Bnd)', '/proc/self/status']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/CapEff:\s+00000000a80405fb/);
    expect(r.stdout).toMatch(/CapBnd:\s+00000000a80405fb/);
  });

  it('/proc/kcore and the other masked paths read empty, and /proc/sys is read-only', async () => {
    // This VM's kernel has no /proc/kcore; where it exists it must read as empty (masked by /dev/null).
    const script = [
      'if [ -e /proc/kcore ]; then wc -c < /proc/kcore; else echo 0; fi',
      'wc -c < /proc/timer_list',
      'ls -A /proc/acpi | wc -l',
      'echo 1 > /proc/sys/vm/drop_caches 2>/dev/null && echo wrote || echo refused',
    ].join('; ');
    const host = (await fs.readFile('/proc/timer_list', 'utf8')).length;
    expect(host).toBeGreaterThan(0);
    const r = await run(['sh', '-c', script]);
    expect(r.stdout.split('\n').map((s) => s.trim()), r.stderr).toEqual(['0', '0', '0', 'refused']);
  });

  it('writes land in the upper dir, never in the lower rootfs, and a deleted file becomes a whiteout', async () => {
    const r = await run(['sh', '-c', 'mkdir -p /data && echo hello > /data/x && rm /etc/hosts && echo ok']);
    expect(r.stdout.trim(), r.stderr).toBe('ok');
    expect(await fs.readFile(path.join(r.ov.upper, 'data', 'x'), 'utf8')).toBe('hello\n');
    expect(await fs.stat(path.join(lower, 'data', 'x')).catch(() => undefined)).toBeUndefined();
    const wh = await fs.stat(path.join(r.ov.upper, 'etc', 'hosts'));
    expect(wh.isCharacterDevice()).toBe(true);
    expect(wh.rdev).toBe(0);
    expect((await fs.stat(path.join(lower, 'etc', 'hosts'))).isFile()).toBe(true);
  });

  it('writeRootfsDiff/applyRootfsDiff carry files, whiteouts and opaque dirs into a fresh upper', async () => {
    // Replacing /etc (which has files in the lower) makes it an opaque dir (xattr trusted.overlay.opaque).
    const script = 'mkdir -p /data && echo hello > /data/x && rm /bin/vi && rm -rf /etc && mkdir /etc && echo n > /etc/only && echo ok';
    const first = await run(['sh', '-c', script]);
    expect(first.stdout.trim(), first.stderr).toBe('ok');
    const tar = path.join(dir, `${first.id}.tar`);
    await writeRootfsDiff(first.ov.upper, tar);

    const id2 = `t-${randomUUID().slice(0, 8)}`;
    const fresh = path.join(dir, 'ov', id2, 'upper');
    await applyRootfsDiff(tar, fresh);
    expect((await fs.lstat(path.join(fresh, 'bin', 'vi'))).isCharacterDevice()).toBe(true);
    expect(await fs.readFile(path.join(fresh, 'data', 'x'), 'utf8')).toBe('hello\n');

    const ov = await newOverlay(id2);
    expect(await isMounted(ov.target)).toBe(true);
    const second = await run(['sh', '-c', 'cat /data/x; test -e /bin/vi && echo present || echo gone; ls /etc'], {
      overlay: ov,
    });
    expect(second.stdout.split('\n').map((s) => s.trim()), second.stderr).toEqual(['hello', 'gone', 'only']);
    await unmountOverlay(ov.target);
    expect(await isMounted(ov.target)).toBe(false);
  });

  it('mountOverlay is idempotent, unmountOverlay tolerates no mount, a missing lower is a clear error', async () => {
    const id = `t-${randomUUID().slice(0, 8)}`;
    const ov = await newOverlay(id);
    await mountOverlay(ov);
    expect(await isMounted(ov.target)).toBe(true);
    await unmountOverlay(ov.target);
    await unmountOverlay(ov.target);
    expect(await isMounted(ov.target)).toBe(false);
    await expect(mountOverlay({ ...ov, lower: path.join(dir, 'nope') })).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    const file = path.join(dir, 'a-file');
    await fs.writeFile(file, '');
    await expect(mountOverlay({ ...ov, lower: file })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});
