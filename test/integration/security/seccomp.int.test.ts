/**
 * The default seccomp profile under real runc: a static probe calls each syscall with harmless
 * arguments in a container and reports the errno. Each refused class runs twice: with the profile
 * as shipped (the task sees EPERM) and with every EPERM of the profile replaced by a marker errno no
 * probed call returns by itself, which proves that the filter refused the call, not the kernel (a
 * task without CAP_SYS_ADMIN would get EPERM from `mount` anyway).
 *
 * Every test runs twice: with `linux.seccomp` loaded by runc, and with the profile compiled once by
 * the node (src/runtime/compiled-seccomp.ts) and loaded by /.stasis/seccomp, as tasks get it.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SECCOMP_PROFILE } from '../../../src/sandbox/seccomp/profile.js';
import { loadSeccompProfile } from '../../../src/sandbox/seccomp/load.js';
import type { SeccompProfile } from '../../../src/sandbox/seccomp/schema.js';
import { describeWithHost } from '../../helpers/host.js';
import { loadRuntimeConfig, runtimePaths } from '../../../src/config/load.js';
import { compiledSeccomp } from '../../../src/runtime/compiled-seccomp.js';
import { loaderArgs, loaderMounts, type CompiledSeccomp } from '../../../src/sandbox/seccomp/loader.js';
import { probeToolchainMissing, removeSeccompProbe, seccompProbe } from './probe.js';

const RUNC = process.env.STASIS_RUNC ?? '/usr/sbin/runc';
const BUSYBOX = '/bin/busybox';
const CGROUP_PARENT = 'stasis-test';
const CGROUP_ROOT = '/sys/fs/cgroup';
const EPERM = 1;
const ENOSYS = 38;
/** EHWPOISON: none of the probed calls returns it, so it can only come from the filter. */
const MARK = 133;

let dir: string;
let runcRoot: string;
let rootfs: string;
let template: Record<string, unknown>;
const started: string[] = [];
/** Who loads the filter in the suite that runs now. */
let loadedBy: 'runc' | 'loader' = 'runc';
const compiled = new Map<string, CompiledSeccomp>();

/** `profile` compiled by the node's probe, once per profile and suite. */
async function compiledFor(profile: SeccompProfile): Promise<CompiledSeccomp> {
  const key = JSON.stringify(profile);
  let c = compiled.get(key);
  if (!c) {
    const config = loadRuntimeConfig({ stateDir: path.join(dir, 'state'), runc: RUNC, busybox: BUSYBOX });
    c = await compiledSeccomp(config, runtimePaths(config), profile as unknown as Record<string, unknown>);
    if (!c) throw new Error('the profile was not compiled: is native/build/stasis-seccomp built (npm run build)?');
    compiled.set(key, c);
  }
  return c;
}

/** The profile with every EPERM (the default and the explicit rules) replaced by MARK. */
function marked(p: SeccompProfile): SeccompProfile {
  const m = structuredClone(p);
  m.defaultErrnoRet = MARK;
  for (const r of m.syscalls) if (r.errnoRet === EPERM) r.errnoRet = MARK;
  return m;
}

/** Rootfs: busybox (+ sh), the probe, mount points for the host's /usr (node, python3) and a tmpfs /tmp. */
async function buildRootfs(probe: string): Promise<string> {
  const root = path.join(dir, 'rootfs');
  for (const d of ['bin', 'dev', 'proc', 'sys', 'tmp', 'etc', 'usr']) await fs.mkdir(path.join(root, d), { recursive: true });
  await fs.copyFile(BUSYBOX, path.join(root, 'bin', 'busybox'));
  await fs.chmod(path.join(root, 'bin', 'busybox'), 0o755);
  await fs.symlink('busybox', path.join(root, 'bin', 'sh'));
  await fs.symlink('usr/lib', path.join(root, 'lib'));
  await fs.symlink('usr/lib64', path.join(root, 'lib64'));
  await fs.copyFile(probe, path.join(root, 'probe'));
  await fs.chmod(path.join(root, 'probe'), 0o755);
  return root;
}

interface Run {
  exitCode: number | undefined;
  stdout: string;
  stderr: string;
}

/** Runs `args` in a fresh container (`runc run` in the foreground, stdio pipes) under `profile`. */
async function run(args: string[], profile: SeccompProfile = DEFAULT_SECCOMP_PROFILE): Promise<Run> {
  const id = `seccomp-${randomUUID().slice(0, 8)}`;
  const bundle = path.join(dir, 'bundles', id);
  await fs.mkdir(bundle, { recursive: true });
  const spec = structuredClone(template) as {
    process: Record<string, unknown>;
    root: Record<string, unknown>;
    hostname: string;
    mounts: Record<string, unknown>[];
    linux: Record<string, unknown> & { namespaces: { type: string }[] };
  };
  spec.process.terminal = false;
  spec.process.args = args;
  spec.process.env = ['PATH=/bin:/usr/bin', 'HOME=/tmp'];
  spec.root = { path: rootfs, readonly: true };
  spec.hostname = id;
  spec.mounts.push(
    { destination: '/usr', type: 'bind', source: '/usr', options: ['rbind', 'ro', 'nosuid', 'nodev'] },
    { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', 'size=65536k'] },
  );
  if (loadedBy === 'runc') spec.linux.seccomp = profile;
  else {
    spec.mounts.push(...(loaderMounts(await compiledFor(profile)) as unknown as Record<string, unknown>[]));
    spec.process.args = loaderArgs(args);
  }
  spec.linux.cgroupsPath = `/${CGROUP_PARENT}/${id}`;
  if (!spec.linux.namespaces.some((n) => n.type === 'network')) spec.linux.namespaces.push({ type: 'network' });
  await fs.writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec, null, 2));
  started.push(id);
  const r = await execa(RUNC, ['--root', runcRoot, 'run', '-b', bundle, id], { reject: false, stdin: 'ignore', timeout: 30_000 });
  return { exitCode: r.exitCode, stdout: r.stdout, stderr: r.stderr };
}

/** Runs the probe for `names` and returns each name's errno. */
async function probe(names: string[], profile?: SeccompProfile): Promise<Record<string, number>> {
  const r = await run(['/probe', ...names], profile);
  expect(r.exitCode, `probe failed: ${r.stderr}`).toBe(0);
  return Object.fromEntries(
    r.stdout
      .trim()
      .split('\n')
      .map((l) => l.split(' '))
      .map(([name, errno]) => [name!, Number(errno)]),
  );
}

const each = (names: string[], errno: number) => Object.fromEntries(names.map((n) => [n, errno]));

/** The task sees `errno` for every name, and the filter is what refused it (MARK under the marked profile). */
async function expectRefused(names: string[], errno = EPERM): Promise<void> {
  expect(await probe(names)).toEqual(each(names, errno));
  expect(await probe(names, marked(DEFAULT_SECCOMP_PROFILE))).toEqual(each(names, errno === EPERM ? MARK : errno));
}

async function rmdirCgroups(rel: string): Promise<void> {
  const controllers = await fs.readdir(CGROUP_ROOT).catch(() => [] as string[]);
  for (const c of controllers) await fs.rmdir(path.join(CGROUP_ROOT, c, rel)).catch(() => undefined);
}

/** describeWithHost, which also skips (locally) without gcc; in CI beforeAll then fails with the toolchain's message. */
function describeWithProbe(name: string, fn: () => void): void {
  const toolchain = probeToolchainMissing();
  if (toolchain && !process.env.CI) return void describe.skip(`${name} [skipped: ${toolchain}]`, fn);
  describeWithHost(['runc', 'root', 'busybox'], name, fn);
}

for (const by of ['runc', 'loader'] as const) {
describeWithProbe(`seccomp: the default profile under runc 1.1.5, loaded by ${by === 'runc' ? 'runc' : 'the compiled loader'}`, () => {
  beforeAll(async () => {
    loadedBy = by;
    compiled.clear();
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'stasis-seccomp-'));
    runcRoot = path.join(dir, 'runc');
    rootfs = await buildRootfs(await seccompProbe());
    const specDir = path.join(dir, 'template');
    await fs.mkdir(specDir);
    await execa(RUNC, ['spec', '--bundle', specDir]);
    template = JSON.parse(await fs.readFile(path.join(specDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  });

  afterEach(async () => {
    for (const id of started.splice(0)) {
      await execa(RUNC, ['--root', runcRoot, 'delete', '-f', id], { reject: false });
      await rmdirCgroups(path.join(CGROUP_PARENT, id));
    }
  });

  afterAll(async () => {
    await rmdirCgroups(CGROUP_PARENT);
    await removeSeccompProbe();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  it('busybox sh runs under the profile: echo ok; ls /', async () => {
    const r = await run(['/bin/sh', '-c', 'echo ok; ls /']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.split('\n')[0]).toBe('ok');
    expect(r.stdout).toMatch(/\bprobe\b/);
  });

  it('node runs fs, timers, crypto, a worker thread and a child process under the profile', async () => {
    const script = `
      const fs = require('node:fs/promises');
      const { Worker } = require('node:worker_threads');
      const { execFileSync } = require('node:child_process');
      const crypto = require('node:crypto');
      const worker = 'require("node:worker_threads").parentPort.postMessage(6 * 7)';
      (async () => {
        await fs.writeFile('/tmp/x', 'data');
        const read = await fs.readFile('/tmp/x', 'utf8');
        await new Promise((r) => setTimeout(r, 10));
        const w = await new Promise((res, rej) => new Worker(worker, { eval: true }).on('message', res).on('error', rej));
        const child = execFileSync('/bin/sh', ['-c', 'echo child']).toString().trim();
        console.log([read, w, child, crypto.randomBytes(4).length].join(' '));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const r = await run(['/usr/bin/node', '-e', script]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('data 42 child 4');
  });

  it('python3 runs threads, a subprocess and os.urandom under the profile', async () => {
    const script = [
      'import os, subprocess, threading',
      'out = []',
      't = threading.Thread(target=lambda: out.append(6 * 7)); t.start(); t.join()',
      "child = subprocess.run(['/bin/sh', '-c', 'echo child'], capture_output=True, text=True).stdout.strip()",
      "print(out[0], child, len(os.urandom(4)))",
    ].join('\n');
    const r = await run(['/usr/bin/python3', '-c', script]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('42 child 4');
  });

  it('plain fork, clone and pthread_create work under the profile', async () => {
    expect(await probe(['fork', 'clone', 'thread'])).toEqual(each(['fork', 'clone', 'thread'], 0));
  });

  it('clone3 fails with ENOSYS, so that libc falls back to clone', async () => {
    await expectRefused(['clone3'], ENOSYS);
  });

  it('the x32 ABI is not in the profile: a call through it kills the caller (SIGSYS), whatever the kernel supports', async () => {
    const SIGSYS = 31;
    expect(await probe(['x32-getpid'])).toEqual({ 'x32-getpid': 128 + SIGSYS });
  });

  it('new namespaces are refused: unshare, setns and clone with any CLONE_NEW* flag get EPERM', async () => {
    const flags = ['newuser', 'newns', 'newpid', 'newnet', 'newuts', 'newipc', 'newcgroup'].map((f) => `clone-${f}`);
    await expectRefused(['unshare', 'setns', ...flags]);
  });

  it('kernel keyrings are refused: keyctl, add_key and request_key get EPERM', async () => {
    await expectRefused(['keyctl', 'add_key', 'request_key']);
  });

  it('perf_event_open, bpf and userfaultfd get EPERM', async () => {
    await expectRefused(['perf_event_open', 'bpf', 'userfaultfd']);
  });

  it('io_uring is refused: io_uring_setup, io_uring_enter and io_uring_register get EPERM', async () => {
    await expectRefused(['io_uring_setup', 'io_uring_enter', 'io_uring_register']);
  });

  it('loading kernels and modules is refused: kexec_load, kexec_file_load, (f)init_module, delete_module get EPERM', async () => {
    await expectRefused(['kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module']);
  });

  it('mounting is refused, with the old API and the new: mount, umount2, pivot_root, fsopen … mount_setattr get EPERM', async () => {
    const newApi = ['fsopen', 'fsconfig', 'fsmount', 'fspick', 'move_mount', 'open_tree', 'mount_setattr'];
    await expectRefused(['mount', 'umount2', 'pivot_root', ...newApi]);
  });

  it('a mount syscall newer than any the profile names (open_tree_attr, Linux 6.15) fails with ENOSYS', async () => {
    expect(await probe(['open_tree_attr'])).toEqual({ open_tree_attr: ENOSYS });
  });

  it('ptrace is refused except PTRACE_TRACEME', async () => {
    await expectRefused(['ptrace-attach']);
    expect(await probe(['ptrace-traceme'])).toEqual({ 'ptrace-traceme': 0 });
  });

  it('personality refuses an unsafe persona (READ_IMPLIES_EXEC) and allows PER_LINUX and the query 0xffffffff', async () => {
    await expectRefused(['personality-unsafe']);
    expect(await probe(['personality-linux', 'personality-query'])).toEqual(each(['personality-linux', 'personality-query'], 0));
  });

  it("another process's memory and files are out of reach: process_vm_readv/writev, kcmp and pidfd_getfd get EPERM", async () => {
    await expectRefused(['process_vm_readv', 'process_vm_writev', 'kcmp', 'pidfd_getfd']);
  });

  it('file handles are refused: open_by_handle_at and name_to_handle_at get EPERM', async () => {
    await expectRefused(['open_by_handle_at', 'name_to_handle_at']);
  });

  it('host-wide state is refused: acct, swapon, swapoff, reboot, syslog and quotactl get EPERM', async () => {
    await expectRefused(['acct', 'swapon', 'swapoff', 'reboot', 'syslog', 'quotactl']);
  });

  it('the clock cannot be set or adjusted: settimeofday, clock_settime, clock_adjtime and adjtimex get EPERM', async () => {
    await expectRefused(['settimeofday', 'clock_settime', 'clock_adjtime', 'adjtimex']);
  });

  it('raw I/O ports and the LDT are refused: iopl, ioperm and modify_ldt get EPERM', async () => {
    await expectRefused(['iopl', 'ioperm', 'modify_ldt']);
  });

  it('sockets: AF_INET and AF_UNIX work; AF_ALG and AF_VSOCK get EPERM, also with high bits set in the domain', async () => {
    expect(await probe(['socket-inet', 'socket-unix'])).toEqual(each(['socket-inet', 'socket-unix'], 0));
    await expectRefused(['socket-alg', 'socket-vsock', 'socket-alg-high']);
  });

  it('a profile loaded from a JSON file in the OCI shape runs busybox like the default', async () => {
    const file = path.join(dir, 'oci-profile.json');
    await fs.writeFile(file, JSON.stringify(DEFAULT_SECCOMP_PROFILE));
    const r = await run(['/bin/sh', '-c', 'echo ok'], await loadSeccompProfile(file));
    expect(r.stdout.trim(), r.stderr).toBe('ok');
  });

  it("a profile in Docker's format is resolved against the task's capabilities: a CAP_SYS_ADMIN rule applies only with it", async () => {
    const { architectures: _a, ...rest } = structuredClone(DEFAULT_SECCOMP_PROFILE);
    const docker = {
      ...rest,
      archMap: [{ architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] }],
      syscalls: [...rest.syscalls, { names: ['unshare'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_ADMIN'] } }],
    };
    const file = path.join(dir, 'docker-profile.json');
    await fs.writeFile(file, JSON.stringify(docker));
    const without = await loadSeccompProfile(file);
    expect(without.architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    expect(await probe(['unshare'], without)).toEqual({ unshare: EPERM });
    // unshare(CLONE_NEWUSER) needs no capability, so once the filter allows it, it succeeds.
    expect(await probe(['unshare'], await loadSeccompProfile(file, { capabilities: ['CAP_SYS_ADMIN'] }))).toEqual({ unshare: 0 });
  });

  it('loading a profile that does not exist fails with ERR_INVALID_ARGUMENT naming the file', async () => {
    const file = path.join(dir, 'no-such-profile.json');
    await expect(loadSeccompProfile(file)).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: `Expected a readable seccomp profile at ${file}, got ENOENT`,
    });
  });
});
}
