import { describe, expect, it } from 'vitest';
import {
  exitJson,
  formatError,
  formatExit,
  formatProcesses,
  formatStats,
  formatTable,
  formatTaskList,
  formatTaskState,
  taskJson,
} from '../../../src/cli/output.js';
import type { Exit, TaskStats, TaskSummary } from '../../../src/runtime/task.js';

const exit: Exit = { pid: 42, status: 137, signal: 'SIGKILL', exitedAt: '2026-11-28T10:00:01.000Z', reason: 'exited' };

function summary(id: string, over: Partial<TaskSummary['state']> = {}): TaskSummary {
  return {
    info: {
      id,
      namespace: 'default',
      runtime: { name: 'io.stasis.runc', path: '/usr/sbin/runc' },
      spec: { ociVersion: '1.0.2', process: { args: ['sh'] }, root: { path: 'rootfs' } },
      bundle: `/s/tasks/default/${id}/bundle`,
      containerId: `default-${id}`,
      createdAt: '2026-11-28T10:00:00.000Z',
      annotations: {},
    },
    state: { id, status: 'running', pid: 1234, stdin: '', stdout: `/s/tasks/default/${id}/ctr.log`, stderr: '', terminal: false, ...over },
  };
}

describe('formatTable', () => {
  it('aligns columns with two spaces and does not pad the last one', () => {
    expect(formatTable(['ID', 'STATUS'], [['a', 'running'], ['long-id', 'stopped']])).toBe(
      'ID       STATUS\na        running\nlong-id  stopped\n',
    );
  });
});

describe('taskJson', () => {
  it('has a stable shape with nulls before the task stops', () => {
    expect(taskJson(summary('t1'))).toEqual({
      id: 't1',
      namespace: 'default',
      status: 'running',
      pid: 1234,
      exitStatus: null,
      exitedAt: null,
      signal: null,
      reason: null,
      createdAt: '2026-11-28T10:00:00.000Z',
      bundle: '/s/tasks/default/t1/bundle',
      terminal: false,
      log: '/s/tasks/default/t1/ctr.log',
      restoredFrom: null,
    });
  });

  it('carries the exit once stopped', () => {
    const j = taskJson(summary('t1', { status: 'stopped', pid: 0, exitStatus: 137, exitedAt: exit.exitedAt, exit }));
    expect(j).toMatchObject({ status: 'stopped', exitStatus: 137, exitedAt: exit.exitedAt, signal: 'SIGKILL', reason: 'exited' });
  });
});

describe('human formats', () => {
  it('lists tasks as a table with the exit of stopped ones', () => {
    const out = formatTaskList([summary('a'), summary('b', { status: 'stopped', pid: 0, exit: { ...exit, reason: 'oom' } })]);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+PID\s+EXIT\s+CREATED$/);
    expect(lines[1]).toMatch(/^a\s+running\s+1234\s+-\s+2026/);
    expect(lines[2]).toMatch(/^b\s+stopped\s+-\s+137 \(SIGKILL, oom\)\s+2026/);
  });

  it('shows state as key: value lines', () => {
    const out = formatTaskState(summary('a', { status: 'stopped', pid: 0, exit }));
    expect(out).toContain('status:    stopped');
    expect(out).toContain('exit:      137 (SIGKILL)');
    expect(out).toContain(`exited at: ${exit.exitedAt}`);
  });

  it('describes an exit in one line', () => {
    expect(formatExit({ ...exit, status: 0, signal: null })).toBe(`exit status 0 at ${exit.exitedAt}\n`);
    expect(formatExit({ ...exit, reason: 'timeout' })).toBe(`exit status 137 (SIGKILL, timeout) at ${exit.exitedAt}\n`);
    expect(exitJson(exit)).toEqual({ exitStatus: 137, exitedAt: exit.exitedAt, signal: 'SIGKILL', reason: 'exited', pid: 42 });
  });

  it('formats processes with rss, cpu and the exec id', () => {
    const out = formatProcesses([
      { pid: 10, info: { ppid: 1, state: 'S', comm: 'sh', args: ['sh', '-c', 'sleep 9'], rssBytes: 1536 * 1024, cpuMs: 1250 } },
      { pid: 11, info: { ppid: 0, state: 'R', comm: 'top', args: [], rssBytes: 1024, cpuMs: 0, execId: 'e1' } },
    ]);
    expect(out).toMatch(/^PID\s+PPID\s+STATE\s+RSS\s+CPU\s+EXEC\s+COMMAND\n/);
    expect(out).toMatch(/10\s+1\s+S\s+1.5MiB\s+1.25s\s+-\s+sh -c sleep 9\n/);
    expect(out).toMatch(/11\s+0\s+R\s+1KiB\s+0.00s\s+e1\s+top\n/);
  });

  it('formats stats with unlimited limits', () => {
    const s: TaskStats = {
      id: 'a',
      readAt: '2026-11-28T10:00:00.000Z',
      cpu: { usageNs: 1.5e9, userNs: 1e9, kernelNs: 0.5e9, throttledPeriods: 0, throttledTimeNs: 0 },
      memory: { usageBytes: 1024 * 1024, maxUsageBytes: 2 * 1024 * 1024, limitBytes: 2 ** 63, failcnt: 0, rssBytes: 0, cacheBytes: 0 },
      pids: { current: 2, limit: 0 },
      raw: {},
    };
    const out = formatStats(s);
    expect(out).toContain('cpu:       1.500s (user 1.000s, kernel 0.500s)');
    expect(out).toContain('memory:    1MiB of unlimited (max 2MiB, failcnt 0)');
    expect(out).toContain('pids:      2 of unlimited');
  });

  it('formats errors with their details', () => {
    expect(formatError('checkpoint failed', { runtimeError: 'criu failed: type NOTIFY errno 0', criuLog: '/w/dump.log', exitCode: 1 })).toBe(
      'stasis: checkpoint failed\n  runtime error: criu failed: type NOTIFY errno 0\n  CRIU log: /w/dump.log\n  exit code: 1\n',
    );
    expect(formatError('no such task')).toBe('stasis: no such task\n');
  });
});
