import { describe, expect, it } from 'vitest';
import { formatDoctor } from '../../../src/cli/commands/doctor.js';
import type { CheckResult } from '../../../src/host/checks.js';

describe('doctor output', () => {
  it('says the host is ready when every required check is ok', () => {
    const out = formatDoctor([
      { name: 'runc', status: 'ok', required: true, detail: '1.1.5 (/usr/sbin/runc)' },
      { name: 'umoci', status: 'warn', required: false, detail: 'umoci not found in PATH', fix: 'install package umoci (run: npm run setup)' },
    ]);
    expect(out).toMatch(/^STATUS\s+CHECK\s+DETAIL\nok\s+runc\s+1\.1\.5 \(\/usr\/sbin\/runc\)\nwarn\s+umoci/);
    expect(out).toContain('  umoci (optional): install package umoci (run: npm run setup)');
    expect(out).toContain('This host is ready for stasis.');
  });

  it('lists what to do for each missing requirement and counts them', () => {
    const rs: CheckResult[] = [
      { name: 'conmon', status: 'missing', required: true, detail: 'not found at /usr/bin/conmon', fix: 'install package conmon (run: npm run setup)' },
      { name: 'overlayfs', status: 'missing', required: true, detail: 'overlay not in /proc/filesystems', fix: 'run: modprobe overlay' },
    ];
    const out = formatDoctor(rs);
    expect(out).toContain('missing  conmon');
    expect(out).toContain('  conmon: install package conmon (run: npm run setup)');
    expect(out).toContain('  overlayfs: run: modprobe overlay');
    expect(out).toContain('2 required host dependencies are missing.');
  });
});
