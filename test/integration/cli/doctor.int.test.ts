import { execa } from 'execa';
import { expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import { CLI } from './cli.js';

interface DoctorJson {
  ok: boolean;
  checks: { name: string; status: string; required: boolean; detail: string; fix?: string }[];
}

describeWithHost(['runc', 'conmon', 'criu', 'root', 'busybox', 'redis-server'], 'stasis doctor (built CLI)', () => {
  it('exits 0 on this host and reports every requirement ok', async () => {
    const r = await execa('node', [CLI, 'doctor'], { reject: false });
    expect(r.exitCode, String(r.stdout)).toBe(0);
    expect(r.stdout).toContain('This host is ready for stasis.');
    for (const name of ['root', 'runc', 'conmon', 'criu', 'iptables-restore', 'cgroups', 'overlayfs', 'redis-server', 'busybox']) {
      expect(r.stdout).toMatch(new RegExp(`^ok\\s+${name}\\s`, 'm'));
    }
    expect(r.stdout).toMatch(/criu.*Looks good/);
  });

  it('--json reports ok and one entry per check', async () => {
    const r = await execa('node', [CLI, 'doctor', '--json'], { reject: false });
    const j = JSON.parse(String(r.stdout)) as DoctorJson;
    expect(j.ok).toBe(true);
    expect(j.checks.filter((c) => c.required).every((c) => c.status === 'ok')).toBe(true);
  });

  it('exits 1 and says what to do when CRIU is missing', async () => {
    const r = await execa('node', [CLI, 'doctor', '--json'], { reject: false, env: { STASIS_CRIU: '/nonexistent/criu' } });
    expect(r.exitCode).toBe(1);
    const j = JSON.parse(String(r.stdout)) as DoctorJson;
    expect(j.ok).toBe(false);
    expect(j.checks.find((c) => c.name === 'criu')).toMatchObject({
      status: 'missing',
      detail: 'not found at /nonexistent/criu',
      fix: expect.stringContaining('npm run setup'),
    });
  });
});
