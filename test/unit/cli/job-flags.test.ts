import { describe, expect, it } from 'vitest';
import { envFromFlags, parseJobRequest, RUN_OPTIONS, SUBMIT_OPTIONS } from '../../../src/cli/job-flags.js';
import { isUsageError } from '../../../src/cli/args.js';
import { formatRunSummary, runExitCode, splitLogEntry } from '../../../src/cli/job-output.js';
import type { JobResult } from '../../../src/queue/result.js';

const env = {};

function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('parseJobRequest (run/submit flags → payload)', () => {
  it('maps the command after -- unchanged', () => {
    const r = parseJobRequest(['--', 'sh', '-c', 'echo hi; exit 3'], env);
    expect(r.payload).toEqual({ command: ['sh', '-c', 'echo hi; exit 3'] });
    expect(r.submit).toEqual({});
    expect(r.redis).toBeUndefined();
    expect(r.stateDir).toBe('/var/lib/stasis');
  });
  it('maps every limit flag into payload.limits', () => {
    const r = parseJobRequest(['--memory', '256m', '--cpus', '0.5', '--pids', '64', '--timeout', '2.5', '--output-bytes', '1k', '--', 'true'], env);
    expect(r.payload.limits).toEqual({ memory: '256m', cpus: '0.5', pids: 64, timeout: 2.5, outputBytes: '1k' });
  });
  it('maps env, cwd, user, net, rootfs, namespace, annotations and fail-on-non-zero', () => {
    const r = parseJobRequest(
      ['-e', 'A=1', '--env', 'B=x=y', '--cwd', '/tmp', '-u', '1000:100', '--net', 'host', '--rootfs', '/srv/rootfs', '-n', 'team-a',
        '--annotation', 'k=v', '--fail-on-non-zero', '--', 'env'],
      env,
    );
    expect(r.payload).toEqual({
      command: ['env'],
      env: { A: '1', B: 'x=y' },
      cwd: '/tmp',
      user: { uid: 1000, gid: 100 },
      network: 'host',
      rootfs: '/srv/rootfs',
      namespace: 'team-a',
      annotations: { k: 'v' },
      failOnNonZero: true,
    });
  });
  it('uses the uid as gid when only a uid is given, and STASIS_NAMESPACE when set', () => {
    const r = parseJobRequest(['-u', '7', '--', 'id'], { STASIS_NAMESPACE: 'ns1' });
    expect(r.payload.user).toEqual({ uid: 7, gid: 7 });
    expect(r.payload.namespace).toBe('ns1');
  });
  it('maps queue flags into submit options and connection settings', () => {
    const r = parseJobRequest(
      ['--name', 'build', '--job-id', 'build-1', '--priority', '3', '--attempts', '2', '--redis', 'redis://h:1', '-q', 'q2', '--state-dir', '/tmp/s', '--json', '--', 'true'],
      env,
    );
    expect(r.submit).toEqual({ name: 'build', jobId: 'build-1', priority: 3, attempts: 2 });
    expect(r.redis).toBe('redis://h:1');
    expect(r.queue).toBe('q2');
    expect(r.stateDir).toBe('/tmp/s');
    expect(r.json).toBe(true);
  });
  it('rejects bad values with the field named', () => {
    expect(() => parseJobRequest(['--memory=-1', '--', 'true'], env)).toThrow(/limits\.memory/);
    expect(() => parseJobRequest(['--cpus', 'lots', '--', 'true'], env)).toThrow(/limits\.cpus/);
    expect(() => parseJobRequest(['--timeout', '0', '--', 'true'], env)).toThrow(/--timeout/);
    expect(() => parseJobRequest(['--net', 'bridge', '--', 'true'], env)).toThrow(/--net/);
    expect(() => parseJobRequest(['--cwd', 'rel', '--', 'true'], env)).toThrow(/cwd/);
    expect(() => parseJobRequest(['--env', '1BAD', '--', 'true'], env)).toThrow(/--env/);
    expect(() => parseJobRequest(['--env', '=v', '--', 'true'], env)).toThrow(/--env/);
    expect(() => parseJobRequest(['--job-id', '12', '--', 'true'], env)).toThrow(/--job-id/);
  });
  it('needs a command and rejects unknown flags', () => {
    expect(() => parseJobRequest([], env)).toThrow(/missing the command/);
    expect(() => parseJobRequest(['--bogus', '--', 'true'], env)).toThrow(/bogus/);
  });
});

describe('docker-style flags of run and submit', () => {
  it('--pids-limit is --pids', () => {
    expect(parseJobRequest(['--pids-limit', '64', '--', 'true'], env).payload.limits).toEqual({ pids: 64 });
  });
  it('--network is --net', () => {
    expect(parseJobRequest(['--network', 'host', '--', 'true'], env).payload.network).toBe('host');
    expect(() => parseJobRequest(['--network', 'bridge', '--', 'true'], env)).toThrow(/--net/);
  });
  it('--workdir is -w/--cwd', () => {
    expect(parseJobRequest(['--workdir', '/srv', '--', 'pwd'], env).payload.cwd).toBe('/srv');
    expect(parseJobRequest(['-w', '/srv', '--', 'pwd'], env).payload.cwd).toBe('/srv');
  });
  it('an option given under two of its names is a usage error', () => {
    const e = thrown(() => parseJobRequest(['--pids', '1', '--pids-limit', '2', '--', 'true'], env));
    expect(isUsageError(e)).toBe(true);
    expect((e as Error).message).toContain('--pids-limit');
  });
  it('-t and --tty ask for a terminal: payload.tty is true', () => {
    expect(parseJobRequest(['-t', '--', 'sh'], env).payload).toEqual({ command: ['sh'], tty: true });
    expect(parseJobRequest(['--tty', '--', 'sh'], env).payload.tty).toBe(true);
    expect(parseJobRequest(['--', 'sh'], env).payload.tty).toBeUndefined();
  });
  it('-t takes no value and --timeout has no short flag any more', () => {
    expect(() => parseJobRequest(['-t', '30', '--', 'sleep', '1'], env)).toThrow(/unexpected arguments before/);
    expect(parseJobRequest(['-it', '--', 'sh'], env)).toMatchObject({ interactive: true, payload: { tty: true } });
    expect(parseJobRequest(['--timeout', '30', '--', 'true'], env).payload.limits).toEqual({ timeout: 30 });
  });
  it('-i and --interactive ask the command to read its stdin; the payload has none yet', () => {
    for (const flag of ['-i', '--interactive']) {
      const r = parseJobRequest([flag, '--', 'cat'], env);
      expect(r.interactive).toBe(true);
      expect(r.payload.stdin).toBeUndefined();
    }
    expect(parseJobRequest(['--', 'cat'], env).interactive).toBe(false);
  });
  it('--rm is for run only', () => {
    expect(parseJobRequest(['--rm', '--', 'true'], env, 'run').rm).toBe(true);
    expect(parseJobRequest(['--', 'true'], env, 'run').rm).toBe(false);
    expect(() => parseJobRequest(['--rm', '--', 'true'], env, 'submit')).toThrow(/unknown option '--rm'/);
  });
  it('-e KEY takes the value from the caller environment and leaves a missing one out', () => {
    const r = parseJobRequest(['-e', 'FOO', '-e', 'MISSING', '-e', 'BAR=x', '--env', 'EMPTY', '--', 'env'], { FOO: 'from-env', EMPTY: '' });
    expect(r.payload.env).toEqual({ FOO: 'from-env', BAR: 'x', EMPTY: '' });
    expect(parseJobRequest(['-e', 'MISSING', '--', 'env'], {}).payload.env).toBeUndefined();
  });
  it('envFromFlags keeps K=V as given and a later flag wins', () => {
    expect(envFromFlags(['A=1', 'A', 'B=x=y'], { A: '2' })).toEqual({ A: '2', B: 'x=y' });
  });
  it('--image maps to payload.image and the command may be left out', () => {
    expect(parseJobRequest(['--image', 'registry.example:5000/team/tool:1.4'], env).payload).toEqual({ image: 'registry.example:5000/team/tool:1.4' });
    expect(parseJobRequest(['--image', 'busybox', '--', 'echo', 'hi'], env).payload).toEqual({ image: 'busybox', command: ['echo', 'hi'] });
  });
  it('--image oci:relative/path becomes an absolute layout path', () => {
    expect(parseJobRequest(['--image', 'oci:layout:v1'], env).payload.image).toBe(`oci:${process.cwd()}/layout:v1`);
  });
  it('--image with --rootfs, or a bad reference, is a usage error', () => {
    expect(isUsageError(thrown(() => parseJobRequest(['--image', 'busybox', '--rootfs', '/r'], env)))).toBe(true);
    expect(isUsageError(thrown(() => parseJobRequest(['--image', 'Not A Ref'], env)))).toBe(true);
  });
  it('durations with units and the existing limit flags are kept', () => {
    const r = parseJobRequest(['--timeout', '1.5s', '--cpu-time', '2m', '--kill-grace', '0', '--disk', '64m', '--', 'true'], env);
    expect(r.payload.limits).toEqual({ timeout: 1.5, cpuTime: 120, killGrace: 0, disk: '64m' });
  });
});

describe('the run and submit option tables', () => {
  it('differ only in --rm and the meaning of --json', () => {
    expect(Object.keys(RUN_OPTIONS).filter((k) => !(k in SUBMIT_OPTIONS))).toEqual(['rm']);
    expect(Object.keys(SUBMIT_OPTIONS).filter((k) => !(k in RUN_OPTIONS))).toEqual([]);
  });
});

const result: JobResult = {
  jobId: '7', attempt: 0, nodeId: 'n1', taskId: '7-0', namespace: 'default', status: 'exited', exitStatus: 3, signal: null,
  reason: 'exited', startedAt: '2026-01-01T00:00:00.000Z', exitedAt: '2026-01-01T00:00:00.120Z', wallMs: 120, cpuMs: 4,
  peakMemoryBytes: 1024 * 1024, stdout: 'hi\n', stderr: '', stdoutTruncated: false, stderrTruncated: false, logPath: null, checkpoints: [], nodes: ['n1'],
};

describe('run output', () => {
  it('exits with the job status, or 125 when it never ran', () => {
    expect(runExitCode(result)).toBe(3);
    expect(runExitCode({ ...result, exitStatus: null, reason: 'failed-to-start' })).toBe(125);
  });
  it('exits with the codes docs/cli.md lists for endings the job did not choose', () => {
    expect(runExitCode({ ...result, reason: 'timeout', exitStatus: 137 })).toBe(124);
    expect(runExitCode({ ...result, reason: 'cpu-time', exitStatus: 137 })).toBe(152);
    expect(runExitCode({ ...result, reason: 'oom', exitStatus: 137 })).toBe(137);
    expect(runExitCode({ ...result, reason: 'cancelled', exitStatus: 143 })).toBe(130);
    expect(runExitCode({ ...result, reason: 'lost', exitStatus: null })).toBe(255);
    expect(runExitCode({ ...result, reason: 'failed-to-start', exitStatus: 127 })).toBe(127);
  });
  it('summarises status, reason, times and node in one line', () => {
    expect(formatRunSummary(result)).toMatch(/^stasis: job 7 exited with status 3, wall 120 ms, cpu 4 ms, peak memory .*node n1\n$/);
    expect(formatRunSummary({ ...result, reason: 'timeout', exitStatus: 137, signal: 'SIGKILL' })).toMatch(/job 7 timeout with status 137 \(SIGKILL\)/);
  });
  it('splits log entries into lines and sends [stderr] lines to stderr', () => {
    expect(splitLogEntry('a\nb\n')).toEqual([{ stream: 'stdout', text: 'a' }, { stream: 'stdout', text: 'b' }]);
    expect(splitLogEntry('[stderr] oops')).toEqual([{ stream: 'stderr', text: 'oops' }]);
    expect(splitLogEntry('stderr: not a prefix')).toEqual([{ stream: 'stdout', text: 'stderr: not a prefix' }]);
  });
});
