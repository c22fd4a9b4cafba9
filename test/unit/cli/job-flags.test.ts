import { describe, expect, it } from 'vitest';
import { parseJobRequest } from '../../../src/cli/job-flags.js';
import { formatRunSummary, runExitCode, splitLogEntry } from '../../../src/cli/job-output.js';
import type { JobResult } from '../../../src/queue/result.js';

const env = {};

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
    expect(() => parseJobRequest(['--env', 'NOEQ', '--', 'true'], env)).toThrow(/--env/);
    expect(() => parseJobRequest(['--job-id', '12', '--', 'true'], env)).toThrow(/--job-id/);
  });
  it('needs a command and rejects unknown flags', () => {
    expect(() => parseJobRequest([], env)).toThrow(/missing the command/);
    expect(() => parseJobRequest(['--bogus', '--', 'true'], env)).toThrow(/bogus/);
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
