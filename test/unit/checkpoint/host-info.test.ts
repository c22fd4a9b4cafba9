import { describe, expect, it } from 'vitest';
import { isRelevantCpuFlag, parseCpuinfo, parseCriuVersion, parseRuncVersion } from '../../../src/checkpoint/host-info.js';

describe('host info parsers', () => {
  it('reads the CRIU version', () => {
    expect(parseCriuVersion('Version: 4.1.1\n')).toBe('4.1.1');
    expect(parseCriuVersion('Version: 3.17.1\nGitID: v3.17.1\n')).toBe('3.17.1');
    expect(() => parseCriuVersion('garbage')).toThrow(expect.objectContaining({ code: 'ERR_UNAVAILABLE' }));
  });

  it('reads the runc version, commit and spec', () => {
    const out = 'runc version 1.1.5+ds1\ncommit: 1.1.5+ds1-1+deb12u1\nspec: 1.0.2-dev\ngo: go1.19.8\nlibseccomp: 2.5.4\n';
    expect(parseRuncVersion(out)).toEqual({ version: '1.1.5+ds1', commit: '1.1.5+ds1-1+deb12u1', spec: '1.0.2-dev' });
    expect(parseRuncVersion('runc version 1.2.0\n')).toEqual({ version: '1.2.0' });
  });

  it('reads vendor, model and only the restore-relevant flags of the first CPU, sorted', () => {
    const text = [
      'processor\t: 0',
      'vendor_id\t: GenuineIntel',
      'model name\t: Intel(R) Xeon(R) Processor',
      'flags\t\t: fpu vme sse2 sse hypervisor avx512f avx2 ibrs md_clear xsave',
      '',
      'processor\t: 1',
      'vendor_id\t: GenuineIntel',
      'flags\t\t: fpu',
    ].join('\n');
    expect(parseCpuinfo(text)).toEqual({
      vendor: 'GenuineIntel',
      model: 'Intel(R) Xeon(R) Processor',
      flags: ['avx2', 'avx512f', 'fpu', 'sse', 'sse2', 'xsave'],
    });
  });

  it('treats instruction-set flags as relevant and mitigation/virtualisation flags as not', () => {
    for (const f of ['avx512_vnni', 'amx_tile', 'sha_ni', 'xsaves', 'sse4_2']) expect(isRelevantCpuFlag(f)).toBe(true);
    for (const f of ['hypervisor', 'md_clear', 'ibrs', 'constant_tsc', 'arch_capabilities']) expect(isRelevantCpuFlag(f)).toBe(false);
  });
});
