import { describe, expect, it } from 'vitest';
import { effectiveLimits } from '../../../src/policy/limits.js';
import { checkRequest } from '../../../src/policy/apply.js';
import { NodePolicySchema, BUILTIN_DEFAULTS } from '../../../src/policy/schema.js';
import { StasisError } from '../../../src/errors.js';

const policy = (input: unknown = {}) => NodePolicySchema.parse(input);

function denied(fn: () => unknown): StasisError {
  try {
    fn();
  } catch (e) {
    expect((e as StasisError).code).toBe('ERR_PERMISSION_DENIED');
    return e as StasisError;
  }
  throw new Error('expected ERR_PERMISSION_DENIED');
}

describe('effectiveLimits', () => {
  it('gives a payload without limits the built-in defaults: memory, pids, cpus, timeout, disk, output, grace', () => {
    const l = effectiveLimits(undefined, policy(), 'default');
    expect(l).toEqual({
      memoryBytes: BUILTIN_DEFAULTS.memory,
      cpus: BUILTIN_DEFAULTS.cpus,
      pids: BUILTIN_DEFAULTS.pids,
      timeoutSeconds: BUILTIN_DEFAULTS.timeout,
      diskBytes: BUILTIN_DEFAULTS.disk,
      outputBytes: BUILTIN_DEFAULTS.outputBytes,
      killGraceMs: BUILTIN_DEFAULTS.killGrace * 1000,
    });
  });

  it('takes the operator defaults, then a namespace\'s own defaults', () => {
    const p = policy({ defaults: { memory: '128m', timeout: '10m' }, namespaces: { gpu: { defaults: { memory: '1g' } } } });
    expect(effectiveLimits(undefined, p, 'default')).toMatchObject({ memoryBytes: 128 << 20, timeoutSeconds: 600 });
    expect(effectiveLimits(undefined, p, 'gpu')).toMatchObject({ memoryBytes: 1 << 30, timeoutSeconds: 600 });
  });

  it('keeps what a payload asks for up to the maximum', () => {
    const p = policy({ max: { memory: '1g', cpuTime: 60 } });
    expect(effectiveLimits({ memory: 512 << 20, cpuTime: 30 }, p, 'default')).toMatchObject({ memoryBytes: 512 << 20, cpuTimeSeconds: 30 });
  });

  it('refuses a payload above the maximum with ERR_PERMISSION_DENIED naming the field and the maximum', () => {
    const e = denied(() => effectiveLimits({ memory: 32 * 1024 ** 3 }, policy({ max: { memory: '8g' } }), 'default'));
    expect(e.message).toBe("`limits.memory` 32GiB is above the node's maximum 8GiB");
    expect(e.details).toMatchObject({ field: 'limits.memory', rule: 'max' });
  });

  it('applies a namespace maximum over the node maximum', () => {
    const p = policy({ max: { pids: 1000 }, namespaces: { small: { max: { pids: 50 } } } });
    expect(effectiveLimits({ pids: 500 }, p, 'default').pids).toBe(500);
    expect(denied(() => effectiveLimits({ pids: 500 }, p, 'small')).message).toContain('for namespace small');
  });

  it('lowers an operator default above the operator maximum to the maximum', () => {
    expect(effectiveLimits(undefined, policy({ defaults: { memory: '4g' }, max: { memory: '1g' } }), 'default').memoryBytes).toBe(1 << 30);
  });

  it('allows a zero kill grace and converts it to ms', () => {
    expect(effectiveLimits({ killGrace: 0 }, policy(), 'default').killGraceMs).toBe(0);
    expect(effectiveLimits({ killGrace: 1.5 }, policy(), 'default').killGraceMs).toBe(1500);
  });
});

describe('checkRequest', () => {
  it('refuses host networking unless the operator allows it (node or namespace)', () => {
    const e = denied(() => checkRequest({ namespace: 'default', network: 'host' }, policy(), null));
    expect(e.details).toMatchObject({ field: 'network', rule: 'allowHostNetwork' });
    expect(() => checkRequest({ namespace: 'default', network: 'host' }, policy({ allowHostNetwork: true }), null)).not.toThrow();
    const p = policy({ namespaces: { ops: { allowHostNetwork: true } } });
    expect(() => checkRequest({ namespace: 'ops', network: 'host' }, p, null)).not.toThrow();
    denied(() => checkRequest({ namespace: 'default', network: 'host' }, p, null));
  });

  it('refuses annotations in the io.stasis. prefix', () => {
    const e = denied(() => checkRequest({ namespace: 'default', annotations: { team: 'x', 'io.stasis.job.timeout': '1' } }, policy(), null));
    expect(e.details.field).toBe('annotations.io.stasis.job.timeout');
  });

  it('refuses a user id outside the node user namespace as an invalid argument', () => {
    expect(() => checkRequest({ namespace: 'default', user: { uid: 70000, gid: 0 } }, policy(), { hostId: 100000, size: 65536 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', details: expect.objectContaining({ field: 'user.uid' }) }),
    );
    expect(() => checkRequest({ namespace: 'default', user: { uid: 70000, gid: 0 } }, policy(), null)).not.toThrow();
  });

  it("refuses a template restore from another namespace's checkpoint", () => {
    const e = denied(() => checkRequest({ namespace: 'tenant-a', restoreNamespace: 'tenant-b' }, policy(), null));
    expect(e.details.rule).toBe('own-namespace');
  });
});

describe('NodePolicySchema', () => {
  it('parses units and refuses unknown fields naming them', () => {
    expect(policy({ max: { memory: '2g', timeout: '1h' } }).max).toEqual({ memory: 2 * 1024 ** 3, timeout: 3600 });
    expect(NodePolicySchema.safeParse({ allowRootfs: ['/x'] }).success).toBe(false);
    expect(NodePolicySchema.safeParse({ allowedRootfs: ['relative'] }).success).toBe(false);
  });

  it('is safe by default: no extra rootfs, no host network, user namespaces and the default seccomp profile', () => {
    expect(policy()).toMatchObject({ allowedRootfs: [], allowHostNetwork: false, userns: 'private', seccomp: 'default' });
  });
});
