import { describe, expect, it } from 'vitest';
import { createOptionsFromArgs } from '../../../src/cli/commands/task-create.js';
import { resourcesFromFlags } from '../../../src/cli/resource-flags.js';
import { isUsageError } from '../../../src/cli/args.js';
import { hasCode } from '../../../src/errors.js';

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('task create arguments', () => {
  it('map to CreateTaskOptions', () => {
    const { opts, globals } = createOptionsFromArgs([
      '--id', 't1', '--rootfs', '/r', '--memory', '64m', '--cpus', '0.5', '--pids', '32',
      '-e', 'A=1', '--env', 'B=2', '--cwd', '/tmp', '--tty', '--stdin', '--timeout', '30', '--net', 'host',
      '--annotation', 'k=v', '--state-dir', '/s', '-n', 'ns', '--json',
      '--', 'sh', '-c', 'echo hi --memory',
    ]);
    expect(opts).toEqual({
      id: 't1',
      rootfs: '/r',
      process: { args: ['sh', '-c', 'echo hi --memory'], terminal: true, env: ['A=1', 'B=2'], cwd: '/tmp' },
      limits: { memoryBytes: 64 * 1024 * 1024, cpus: 0.5, pids: 32 },
      network: 'host',
      stdin: true,
      timeoutSeconds: 30,
      annotations: { k: 'v' },
    });
    expect(globals).toMatchObject({ 'state-dir': '/s', namespace: 'ns', json: true });
  });

  it('leave the rootfs empty (filled with the busybox default later) and network none by default', () => {
    const { opts } = createOptionsFromArgs(['--id', 't1', '--', 'true']);
    expect(opts).toEqual({ id: 't1', rootfs: '', process: { args: ['true'], terminal: false }, limits: {}, network: 'none' });
  });

  it('require --id and a command after --', () => {
    expect((thrown(() => createOptionsFromArgs(['--', 'true'])) as Error).message).toBe('missing --id');
    expect(isUsageError(thrown(() => createOptionsFromArgs(['--id', 'x'])))).toBe(true);
    expect(isUsageError(thrown(() => createOptionsFromArgs(['--id', 'x', 'true'])))).toBe(true);
  });

  it('reject bad limits with ERR_INVALID_ARGUMENT naming the flag', () => {
    const e = thrown(() => createOptionsFromArgs(['--id', 'x', '--memory', 'lots', '--', 'true']));
    expect(hasCode(e, 'ERR_INVALID_ARGUMENT')).toBe(true);
    expect((e as Error).message).toContain('--memory');
    expect(isUsageError(thrown(() => createOptionsFromArgs(['--id', 'x', '--net', 'bridge', '--', 'true'])))).toBe(true);
    expect(isUsageError(thrown(() => createOptionsFromArgs(['--id', 'x', '--pids', '0', '--', 'true'])))).toBe(true);
  });
});

describe('task update flags', () => {
  it('map to Resources', () => {
    expect(resourcesFromFlags({ memory: '128m', cpus: '1.5', pids: '10', 'cpu-shares': '512', 'memory-swap': '256m' })).toEqual({
      memoryBytes: 128 * 1024 * 1024,
      memorySwapBytes: 256 * 1024 * 1024,
      cpus: 1.5,
      cpuShares: 512,
      pids: 10,
    });
    expect(resourcesFromFlags({})).toEqual({});
  });

  it('reject a bad CPU count', () => {
    expect(hasCode(thrown(() => resourcesFromFlags({ cpus: '-1' })), 'ERR_INVALID_ARGUMENT')).toBe(true);
  });
});
