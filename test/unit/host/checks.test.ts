import { describe, expect, it } from 'vitest';
import { hostReady, runHostChecks, type HostProbe, type RunResult } from '../../../src/host/checks.js';
import { HYBRID, UNIFIED } from './fixtures.js';

const BIN = { runc: '/usr/sbin/runc', conmon: '/usr/bin/conmon', criu: '/usr/local/bin/stasis-criu', busybox: '/bin/busybox', init: '/usr/bin/tini-static', userns: 'private', mountAddon: 'built' as const, sealedRunc: 'built' as const, nativeSpawn: 'built' as const, seccompLoader: 'built' as const, nativeStart: 'built' as const };

const GOOD_RUNS: Record<string, RunResult> = {
  '/usr/sbin/runc --version': { found: true, exitCode: 0, stdout: 'runc version 1.1.5\n', stderr: '' },
  '/usr/bin/conmon --version': { found: true, exitCode: 0, stdout: 'conmon version 2.1.6\n', stderr: '' },
  '/usr/local/bin/stasis-criu check': { found: true, exitCode: 0, stdout: 'Looks good.\n', stderr: '' },
  '/usr/local/bin/stasis-criu --version': { found: true, exitCode: 0, stdout: 'Version: 4.1.1\n', stderr: '' },
  '/usr/bin/tini-static --version': { found: true, exitCode: 0, stdout: 'tini version 0.19.0\n', stderr: '' },
  '/usr/bin/umoci --version': { found: true, exitCode: 0, stdout: 'umoci version 0.4.7+ds-3+b7\n', stderr: '' },
  '/usr/bin/skopeo --version': { found: true, exitCode: 0, stdout: 'skopeo version 1.9.3\n', stderr: '' },
};
const GOOD_FILES: Record<string, string> = {
  '/proc/self/mountinfo': HYBRID,
  '/proc/filesystems': 'nodev\tsysfs\nnodev\tcgroup\nnodev\tcgroup2\nnodev\toverlay\n',
  '/sys/fs/cgroup/cgroup.controllers': 'cpuset cpu io memory hugetlb pids rdma misc\n',
  '/proc/sys/user/max_user_namespaces': '96362\n',
};
const GOOD_PATH = ['iptables-restore', 'redis-server', 'umoci', 'skopeo'];

function fake(o: { runs?: Record<string, RunResult>; files?: Record<string, string>; path?: string[]; exists?: string[]; uid?: number } = {}): HostProbe {
  const runs = { ...GOOD_RUNS, ...o.runs };
  const files = { ...GOOD_FILES, ...o.files };
  const onPath = o.path ?? GOOD_PATH;
  const exists = o.exists ?? ['/bin/busybox'];
  return {
    run: async (file, args) => runs[[file, ...args].join(' ')] ?? { found: false, exitCode: -1, stdout: '', stderr: '' },
    readFile: async (p) => files[p] ?? null,
    exists: async (p) => exists.includes(p),
    which: async (n) => (onPath.includes(n) ? `/usr/bin/${n}` : null),
    uid: () => o.uid ?? 0,
  };
}

async function byName(probe: HostProbe) {
  const rs = await runHostChecks(probe, BIN);
  return { all: rs, get: (n: string) => rs.find((r) => r.name === n)! };
}

describe('host checks', () => {
  const addons = [['mountAddon', 'mount addon'], ['sealedRunc', 'sealed runc'], ['nativeSpawn', 'native spawn'], ['seccompLoader', 'seccomp loader'], ['nativeStart', 'native start']] as const;
  for (const [field, name] of addons) {
    it(`warn, without failing, when the ${name} is not built or turned off`, async () => {
      for (const state of ['missing', 'off'] as const) {
        const rs = await runHostChecks(fake(), { ...BIN, [field]: state });
        expect(rs.find((r) => r.name === name)).toMatchObject({ status: 'warn', required: false, fix: expect.any(String) });
        expect(hostReady(rs)).toBe(true);
      }
      expect((await runHostChecks(fake(), BIN)).find((r) => r.name === name)).toMatchObject({ status: 'ok' });
    });
  }

  it('warn when user namespaces are turned off, and fail when the kernel allows none', async () => {
    const off = (await runHostChecks(fake(), { ...BIN, userns: 'host' })).find((r) => r.name === 'user namespaces')!;
    expect(off).toMatchObject({ status: 'warn', required: false });
    const none = (await runHostChecks(fake({ files: { '/proc/sys/user/max_user_namespaces': '0\n' } }), BIN)).find((r) => r.name === 'user namespaces')!;
    expect(none.status).toBe('missing');
  });

  it('are all ok on a complete cgroup v1 hybrid host', async () => {
    const { all, get } = await byName(fake());
    expect(all.map((r) => [r.name, r.status])).toEqual([
      ['root', 'ok'],
      ['runc', 'ok'],
      ['conmon', 'ok'],
      ['criu', 'ok'],
      ['iptables-restore', 'ok'],
      ['cgroups', 'ok'],
      ['overlayfs', 'ok'],
      ['redis-server', 'ok'],
      ['busybox', 'ok'],
      ['init', 'ok'],
      ['user namespaces', 'ok'],
      ['mount addon', 'ok'],
      ['sealed runc', 'ok'],
      ['native spawn', 'ok'],
      ['seccomp loader', 'ok'],
      ['native start', 'ok'],
      ['umoci', 'ok'],
      ['skopeo', 'ok'],
    ]);
    expect(get('runc').detail).toBe('1.1.5 (/usr/sbin/runc)');
    expect(get('criu').detail).toContain('4.1.1, criu check: Looks good');
    expect(get('cgroups').detail).toBe('cgroup v1 (hybrid): memory, cpu, pids, freezer');
    expect(hostReady(all)).toBe(true);
  });

  it('accept a unified cgroup v2 host with memory, cpu and pids', async () => {
    const { get } = await byName(fake({ files: { '/proc/self/mountinfo': UNIFIED } }));
    expect(get('cgroups')).toMatchObject({ status: 'ok', detail: expect.stringContaining('cgroup v2 at /sys/fs/cgroup') });
  });

  it('report a v2 host without the pids controller with the command to enable it', async () => {
    const { get } = await byName(fake({ files: { '/proc/self/mountinfo': UNIFIED, '/sys/fs/cgroup/cgroup.controllers': 'cpu memory' } }));
    expect(get('cgroups')).toMatchObject({ status: 'missing', fix: expect.stringContaining("echo '+pids' > /sys/fs/cgroup/cgroup.subtree_control") });
  });

  it('report a v1 host without the freezer', async () => {
    const { get } = await byName(fake({ files: { '/proc/self/mountinfo': HYBRID.split('\n').filter((l) => !l.includes('freezer')).join('\n') } }));
    expect(get('cgroups')).toMatchObject({ status: 'missing', detail: expect.stringContaining('freezer'), fix: expect.stringContaining('-o freezer') });
  });

  it('say what to install when runc and conmon are missing', async () => {
    const runs = { '/usr/sbin/runc --version': { found: false, exitCode: -1, stdout: '', stderr: '' } };
    const { all, get } = await byName(fake({ runs, exists: [] }));
    expect(get('runc')).toMatchObject({ status: 'missing', detail: 'not found at /usr/sbin/runc', fix: 'install package runc (run: npm run setup) (or set STASIS_RUNC to its path)' });
    expect(get('busybox')).toMatchObject({ status: 'missing', fix: 'install package busybox-static (run: npm run setup)' });
    expect(hostReady(all)).toBe(false);
  });

  it('fail CRIU when criu check does not say Looks good, quoting its last line', async () => {
    const runs = {
      '/usr/local/bin/stasis-criu check': { found: true, exitCode: 1, stdout: '', stderr: 'Error (criu/vdso.c:123): vdso: Unexpected rt vDSO area bounds\nCould not initialize kernel features detection.\n' },
    };
    const { get } = await byName(fake({ runs }));
    expect(get('criu')).toMatchObject({ status: 'missing', detail: expect.stringContaining('Could not initialize kernel features detection.'), fix: expect.stringContaining('npm run setup') });
  });

  it('explain why iptables-restore matters and name the iptables package', async () => {
    const { get } = await byName(fake({ path: ['redis-server', 'umoci', 'skopeo'] }));
    expect(get('iptables-restore')).toMatchObject({ status: 'missing', fix: expect.stringMatching(/install package iptables .*CRIU/) });
  });

  it('treat umoci and skopeo as optional (warn, still ready)', async () => {
    const { all, get } = await byName(fake({ path: ['iptables-restore', 'redis-server'] }));
    expect(get('umoci').status).toBe('warn');
    expect(hostReady(all)).toBe(true);
  });

  it('require overlayfs and root', async () => {
    const { get } = await byName(fake({ files: { '/proc/filesystems': 'nodev\tsysfs\n' }, uid: 1000 }));
    expect(get('overlayfs')).toMatchObject({ status: 'missing', fix: 'run: modprobe overlay' });
    expect(get('root')).toMatchObject({ status: 'missing', detail: 'running as uid 1000' });
  });
});

describe('image tool checks', () => {
  it('show the versions of umoci and skopeo', async () => {
    const { get } = await byName(fake());
    expect(get('umoci')).toMatchObject({ status: 'ok', required: false, detail: '0.4.7+ds-3+b7 (/usr/bin/umoci)' });
    expect(get('skopeo')).toMatchObject({ status: 'ok', detail: '1.9.3 (/usr/bin/skopeo)' });
  });

  it('warn when skopeo is on PATH but does not answer --version', async () => {
    const runs = { '/usr/bin/skopeo --version': { found: true, exitCode: 2, stdout: '', stderr: 'boom' } };
    const { get, all } = await byName(fake({ runs }));
    expect(get('skopeo')).toMatchObject({ status: 'warn', detail: expect.stringContaining('exited 2: boom') });
    expect(hostReady(all)).toBe(true);
  });
});
