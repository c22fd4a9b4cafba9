import { describe, expect, it } from 'vitest';
import { buildSpec, DEFAULT_PATH, MASKED_PATHS } from '../../../src/sandbox/spec.js';
import type { OciSpec, SpecOptions } from '../../../src/sandbox/types.js';

const base: SpecOptions = { hostname: 't-1', args: ['sh', '-c', 'true'], cgroupsPath: '/stasis/default/t-1' };

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
      name: 'default RLIMIT_NOFILE is 1024',
      opts: {},
      check: (s) => expect(s.process.rlimits).toEqual([{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }]),
    },
    {
      name: 'env gets the default PATH when it has none',
      opts: { env: ['A=1'] },
      check: (s) => expect(s.process.env).toEqual([DEFAULT_PATH, 'A=1']),
    },
    {
      name: 'a given PATH is kept',
      opts: { env: ['PATH=/bin'] },
      check: (s) => expect(s.process.env).toEqual(['PATH=/bin']),
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
      opts: { user: { uid: 1000, gid: 1000, additionalGids: [5] }, cwd: '/tmp' },
      check: (s) => {
        expect(s.process.user).toEqual({ uid: 1000, gid: 1000, additionalGids: [5] });
        expect(s.process.cwd).toBe('/tmp');
      },
    },
    {
      name: 'terminal sets consoleSize and TERM',
      opts: { terminal: true, consoleSize: { width: 100, height: 30 } },
      check: (s) => {
        expect(s.process.terminal).toBe(true);
        expect(s.process.consoleSize).toEqual({ height: 30, width: 100 });
        expect(s.process.env).toContain('TERM=xterm');
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
      name: 'the standard mounts are there, /sys read-only',
      opts: {},
      check: (s) => {
        const mounts = s.mounts as { destination: string; type: string; options: string[] }[];
        expect(mounts.map((m) => m.destination)).toEqual(['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys']);
        expect(mounts.find((m) => m.destination === '/sys')!.options).toContain('ro');
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

  const bad: { name: string; opts: Partial<SpecOptions>; field: string }[] = [
    { name: 'empty args', opts: { args: [] }, field: 'process.args' },
    { name: 'an empty program name', opts: { args: [''] }, field: 'process.args[0]' },
    { name: 'a relative cwd', opts: { cwd: 'tmp' }, field: 'process.cwd' },
    { name: 'env without =', opts: { env: ['FOO'] }, field: 'process.env[0]' },
    { name: 'env with a bad key', opts: { env: ['PATH=/bin', '1A=x'] }, field: 'process.env[1]' },
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
