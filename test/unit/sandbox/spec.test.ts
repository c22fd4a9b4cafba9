import { describe, expect, it } from 'vitest';
import { buildSpec, DEFAULT_PATH, MASKED_PATHS, validateProcess, type ProcessOptions } from '../../../src/sandbox/spec.js';
import { LAUNCHER_ARGS } from '../../../src/sandbox/launcher.js';
import type { OciSpec, SpecOptions } from '../../../src/sandbox/types.js';

const base: SpecOptions = {
  hostname: 't-1',
  cgroupsPath: '/stasis/default/t-1',
  launcher: { init: '/usr/bin/tini-static', busybox: '/bin/busybox', jobDir: '/state/tasks/default/t-1/job' },
};
type Mount = { destination: string; type: string; source: string; options: string[] };
const mounts = (s: OciSpec) => s.mounts as Mount[];

type Linux = {
  namespaces: { type: string }[];
  resources: Record<string, unknown>;
  cgroupsPath: string;
  maskedPaths: string[];
  readonlyPaths: string[];
};
const linux = (s: OciSpec) => s.linux as unknown as Linux;
const nsTypes = (s: OciSpec) => linux(s).namespaces.map((n) => n.type).sort();

describe('buildSpec', () => {
  const cases: { name: string; opts: Partial<SpecOptions>; check: (s: OciSpec) => void }[] = [
    {
      name: "network 'none' (the default) has its own network namespace",
      opts: {},
      check: (s) => expect(nsTypes(s)).toEqual(['cgroup', 'ipc', 'mount', 'network', 'pid', 'uts']),
    },
    {
      name: "network 'none' explicitly has its own network namespace",
      opts: { network: 'none' },
      check: (s) => expect(nsTypes(s)).toContain('network'),
    },
    {
      name: "network 'host' has no network namespace",
      opts: { network: 'host' },
      check: (s) => expect(nsTypes(s)).toEqual(['cgroup', 'ipc', 'mount', 'pid', 'uts']),
    },
    {
      name: 'a memory limit maps to memory.limit and an equal memory.swap',
      opts: { limits: { memoryBytes: 64 * 1024 ** 2 } },
      check: (s) => expect(linux(s).resources.memory).toEqual({ limit: 67108864, swap: 67108864 }),
    },
    {
      name: 'cpus map to a CFS quota over a 100000 µs period',
      opts: { limits: { cpus: 0.5 } },
      check: (s) => expect(linux(s).resources.cpu).toEqual({ quota: 50000, period: 100000 }),
    },
    {
      name: 'a pids limit maps to pids.limit',
      opts: { limits: { pids: 20 } },
      check: (s) => expect(linux(s).resources.pids).toEqual({ limit: 20 }),
    },
    {
      name: 'no limits means no memory, cpu or pids resources',
      opts: {},
      check: (s) => {
        expect(linux(s).resources.memory).toBeUndefined();
        expect(linux(s).resources.cpu).toBeUndefined();
        expect(linux(s).resources.pids).toBeUndefined();
        expect((linux(s).resources.devices as unknown[])[0]).toEqual({ allow: false, access: 'rwm' });
      },
    },
    {
      name: 'openFiles sets RLIMIT_NOFILE, default 1024',
      opts: { limits: { openFiles: 4096 } },
      check: (s) => expect(s.process.rlimits).toEqual([{ type: 'RLIMIT_NOFILE', hard: 4096, soft: 4096 }]),
    },
    {
      name: 'a disk limit sets RLIMIT_FSIZE a MiB above it (a full layer answers ENOSPC first)',
      opts: { limits: { diskBytes: 64 * 1024 ** 2 } },
      check: (s) => expect(s.process.rlimits).toContainEqual({ type: 'RLIMIT_FSIZE', hard: 68157440, soft: 68157440 }),
    },
    {
      name: 'the process is the launcher: init, busybox, the job dir script; env is only PATH',
      opts: {},
      check: (s) => {
        expect(s.process.args).toEqual([...LAUNCHER_ARGS]);
        expect(s.process.args[0]).toBe('/.stasis/init');
        expect(s.process.env).toEqual([DEFAULT_PATH]);
      },
    },
    {
      name: 'the launcher comes in by read-only bind mounts of node-owned sources',
      opts: {},
      check: (s) => {
        const m = mounts(s).filter((x) => x.destination.startsWith('/.stasis/'));
        expect(m.map((x) => [x.destination, x.source])).toEqual([
          ['/.stasis/init', '/usr/bin/tini-static'],
          ['/.stasis/busybox', '/bin/busybox'],
          ['/.stasis/job', '/state/tasks/default/t-1/job'],
        ]);
        for (const x of m) expect(x.options).toEqual(expect.arrayContaining(['bind', 'ro', 'nosuid', 'nodev']));
      },
    },
    {
      name: 'a user namespace maps container ids 0..size-1 to the node range',
      opts: { userns: { hostId: 1_073_741_824, size: 65536 } },
      check: (s) => {
        expect(nsTypes(s)).toContain('user');
        const l = s.linux as Record<string, unknown>;
        expect(l.uidMappings).toEqual([{ containerID: 0, hostID: 1_073_741_824, size: 65536 }]);
        expect(l.gidMappings).toEqual([{ containerID: 0, hostID: 1_073_741_824, size: 65536 }]);
      },
    },
    {
      name: 'without a user namespace there is no user namespace and no mapping',
      opts: { userns: null },
      check: (s) => {
        expect(nsTypes(s)).not.toContain('user');
        expect((s.linux as Record<string, unknown>).uidMappings).toBeUndefined();
      },
    },
    {
      name: 'a seccomp profile is linux.seccomp',
      opts: { seccomp: { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [] } },
      check: (s) => expect((s.linux as Record<string, unknown>).seccomp).toEqual({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [] }),
    },
    {
      name: 'a compiled profile: no linux.seccomp, the loader in front of the launcher, its two read-only mounts',
      opts: { seccomp: { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [] }, seccompLoader: { loader: '/opt/stasis-seccomp', filter: '/state/seccomp/k.bpf' } },
      check: (s) => {
        expect((s.linux as Record<string, unknown>).seccomp).toBeUndefined();
        expect(s.process.args).toEqual(['/.stasis/seccomp', '/.stasis/seccomp.bpf', '--', ...LAUNCHER_ARGS]);
        expect(mounts(s).slice(-2)).toEqual([
          { destination: '/.stasis/seccomp', type: 'bind', source: '/opt/stasis-seccomp', options: ['bind', 'ro', 'nosuid', 'nodev'] },
          { destination: '/.stasis/seccomp.bpf', type: 'bind', source: '/state/seccomp/k.bpf', options: ['bind', 'ro', 'nosuid', 'nodev', 'noexec'] },
        ]);
      },
    },
    {
      name: 'a loader without a profile (unconfined) is ignored',
      opts: { seccompLoader: { loader: '/opt/stasis-seccomp', filter: '/state/seccomp/k.bpf' } },
      check: (s) => {
        expect(s.process.args).toEqual([...LAUNCHER_ARGS]);
        expect(mounts(s).some((m) => m.destination.startsWith('/.stasis/seccomp'))).toBe(false);
      },
    },
    {
      name: 'the native start is pid 1 instead of init and the script, mounted read-only in init\'s place; busybox stays for exec processes',
      opts: { launcher: { ...base.launcher, starter: '/opt/stasis/native/build/stasis-start' } },
      check: (s) => {
        expect(s.process.args).toEqual(['/.stasis/start', '/.stasis/job/spec']);
        expect(mounts(s).filter((x) => x.destination.startsWith('/.stasis/'))).toEqual([
          { destination: '/.stasis/start', type: 'bind', source: '/opt/stasis/native/build/stasis-start', options: ['bind', 'ro', 'nosuid', 'nodev'] },
          { destination: '/.stasis/busybox', type: 'bind', source: '/bin/busybox', options: ['bind', 'ro', 'nosuid', 'nodev'] },
          { destination: '/.stasis/job', type: 'bind', source: '/state/tasks/default/t-1/job', options: ['bind', 'ro', 'nosuid', 'nodev', 'noexec'] },
        ]);
      },
    },
    {
      name: 'the native start loads a compiled profile itself; the loader stays mounted for exec processes',
      opts: {
        launcher: { ...base.launcher, starter: '/opt/stasis-start' },
        seccomp: { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [] },
        seccompLoader: { loader: '/opt/stasis-seccomp', filter: '/state/seccomp/k.bpf' },
      },
      check: (s) => {
        expect((s.linux as Record<string, unknown>).seccomp).toBeUndefined();
        expect(s.process.args).toEqual(['/.stasis/start', '--seccomp', '/.stasis/seccomp.bpf', '/.stasis/job/spec']);
        expect(mounts(s).slice(-2).map((m) => m.destination)).toEqual(['/.stasis/seccomp', '/.stasis/seccomp.bpf']);
      },
    },
    {
      name: 'default RLIMIT_NOFILE is 1024',
      opts: {},
      check: (s) => expect(s.process.rlimits).toEqual([{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }]),
    },
    {
      name: 'cwd defaults to / and the user to root',
      opts: {},
      check: (s) => {
        expect(s.process.cwd).toBe('/');
        expect(s.process.user).toEqual({ uid: 0, gid: 0 });
      },
    },
    {
      name: 'a user with additional gids is passed through',
      opts: { user: { uid: 1000, gid: 1000, additionalGids: [5] } },
      check: (s) => expect(s.process.user).toEqual({ uid: 1000, gid: 1000, additionalGids: [5] }),
    },
    {
      name: 'terminal sets consoleSize',
      opts: { terminal: true, consoleSize: { width: 100, height: 30 } },
      check: (s) => {
        expect(s.process.terminal).toBe(true);
        expect(s.process.consoleSize).toEqual({ height: 30, width: 100 });
      },
    },
    {
      name: 'the root is writable at rootfs unless rootPath says otherwise',
      opts: {},
      check: (s) => expect(s.root).toEqual({ path: 'rootfs', readonly: false }),
    },
    {
      name: 'rootPath is used as the root path',
      opts: { rootPath: '/abs/rootfs' },
      check: (s) => expect(s.root).toEqual({ path: '/abs/rootfs', readonly: false }),
    },
    {
      name: 'capabilities are reduced, without NET_RAW or SYS_ADMIN, and no new privileges',
      opts: {},
      check: (s) => {
        const caps = s.process.capabilities as Record<string, string[]>;
        expect(caps.bounding).toContain('CAP_KILL');
        expect(caps.bounding).not.toContain('CAP_NET_RAW');
        expect(caps.bounding).not.toContain('CAP_SYS_ADMIN');
        expect(caps.effective).toEqual(caps.bounding);
        expect(s.process.noNewPrivileges).toBe(true);
      },
    },
    {
      name: 'hostname, cgroupsPath, annotations, masked and read-only paths are set',
      opts: { annotations: { 'io.stasis.job': 'j1' } },
      check: (s) => {
        expect(s.hostname).toBe('t-1');
        expect(linux(s).cgroupsPath).toBe('/stasis/default/t-1');
        expect(s.annotations).toEqual({ 'io.stasis.job': 'j1' });
        expect(linux(s).maskedPaths).toEqual(MASKED_PATHS);
        expect(linux(s).maskedPaths).toContain('/proc/kcore');
        expect(linux(s).readonlyPaths).toContain('/proc/sys');
      },
    },
    {
      name: 'masks: /sys/firmware is a read-only bind of the empty directory after /sys, and no longer a tmpfs mask',
      opts: { masks: { emptyDir: '/state/empty', paths: ['/sys/firmware'] } },
      check: (s) => {
        const all = mounts(s).map((m) => m.destination);
        expect(all.indexOf('/sys/firmware')).toBeGreaterThan(all.indexOf('/sys'));
        expect(mounts(s).find((m) => m.destination === '/sys/firmware')).toEqual({
          destination: '/sys/firmware',
          type: 'bind',
          source: '/state/empty',
          options: ['bind', 'ro', 'nosuid', 'nodev', 'noexec'],
        });
        expect(linux(s).maskedPaths).toEqual(MASKED_PATHS.filter((m) => m !== '/sys/firmware'));
        expect(linux(s).maskedPaths).toContain('/proc/acpi');
      },
    },
    {
      name: 'without masks every masked path is left to runc (its tmpfs or /dev/null)',
      opts: {},
      check: (s) => {
        expect(mounts(s).some((m) => m.destination === '/sys/firmware')).toBe(false);
        expect(linux(s).maskedPaths).toContain('/sys/firmware');
      },
    },
    {
      name: 'the standard mounts are there, /sys read-only',
      opts: {},
      check: (s) => {
        const all = mounts(s).map((m) => m.destination);
        expect(all.slice(0, 6)).toEqual(['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys']);
        expect(mounts(s).find((m) => m.destination === '/sys')!.options).toContain('ro');
      },
    },
  ];
  it.each(cases)('$name', ({ opts, check }) => check(buildSpec({ ...base, ...opts })));

  it('does not share arrays between specs', () => {
    const a = buildSpec(base);
    (a.process.capabilities as Record<string, string[]>).bounding!.push('CAP_SYS_ADMIN');
    const b = buildSpec(base);
    expect((b.process.capabilities as Record<string, string[]>).bounding).not.toContain('CAP_SYS_ADMIN');
  });

  const badProcess: { name: string; p: ProcessOptions; field: string }[] = [
    { name: 'empty args', p: { args: [] }, field: 'process.args' },
    { name: 'an empty program name', p: { args: [''] }, field: 'process.args[0]' },
    { name: 'a NUL byte in an argument', p: { args: ['echo', 'a\0b'] }, field: 'process.args[1]' },
    { name: 'a relative cwd', p: { args: ['x'], cwd: 'tmp' }, field: 'process.cwd' },
    { name: 'env without =', p: { args: ['x'], env: ['FOO'] }, field: 'process.env[0]' },
    { name: 'env with a bad key', p: { args: ['x'], env: ['PATH=/bin', '1A=x'] }, field: 'process.env[1]' },
  ];
  it.each(badProcess)('validateProcess rejects $name naming $field', ({ p, field }) => {
    expect(() => validateProcess(p)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', details: expect.objectContaining({ field }) }));
  });

  const bad: { name: string; opts: Partial<SpecOptions>; field: string }[] = [
    { name: 'a uid outside the user namespace', opts: { user: { uid: 70000, gid: 0 }, userns: { hostId: 100000, size: 65536 } }, field: 'process.user.uid' },
    { name: 'a bad hostname', opts: { hostname: 'a b' }, field: 'hostname' },
    { name: 'a relative cgroupsPath', opts: { cgroupsPath: 'stasis/x' }, field: 'cgroupsPath' },
    { name: 'an unknown network', opts: { network: 'bridge' as never }, field: 'network' },
    { name: 'a negative uid', opts: { user: { uid: -1, gid: 0 } }, field: 'process.user.uid' },
    { name: 'a zero memory limit', opts: { limits: { memoryBytes: 0 } }, field: 'limits.memory' },
    { name: 'a fractional pids limit', opts: { limits: { pids: 1.5 } }, field: 'limits.pids' },
    { name: 'zero cpus', opts: { limits: { cpus: 0 } }, field: 'limits.cpus' },
  ];
  it.each(bad)('rejects $name with ERR_INVALID_ARGUMENT naming $field', ({ opts, field }) => {
    expect(() => buildSpec({ ...base, ...opts })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', details: expect.objectContaining({ field }) }),
    );
  });
});
