import { describe, expect, it } from 'vitest';
import { conmonArgs, type LaunchOptions } from '../../../src/monitor/conmon-args.js';

const base: LaunchOptions = {
  conmon: '/usr/bin/conmon',
  runc: '/usr/sbin/runc',
  runcRoot: '/run/stasis/runc',
  containerId: 'default.job-1',
  bundle: '/var/lib/stasis/tasks/job-1/bundle',
  runDir: '/var/lib/stasis/tasks/job-1/run',
};

const common = [
  '--api-version', '1', '-c', 'default.job-1', '-u', 'default.job-1', '-n', 'default.job-1', '-r', '/usr/sbin/runc',
  '--runtime-arg', '--root', '--runtime-arg', '/run/stasis/runc',
];
const files = [
  '-b', '/var/lib/stasis/tasks/job-1/bundle',
  '-p', '/var/lib/stasis/tasks/job-1/run/pidfile', '-P', '/var/lib/stasis/tasks/job-1/run/conmon.pid',
  '-l', 'k8s-file:/var/lib/stasis/tasks/job-1/run/ctr.log',
  '--exit-dir', '/var/lib/stasis/tasks/job-1/run/exits', '-0', '/var/lib/stasis/tasks/job-1/run',
  '--full-attach', '--syslog', '--log-level', 'info', '--no-sync-log',
];

describe('conmonArgs', () => {
  it('creates a plain container with files under the run dir and sockets in the bundle', () => {
    expect(conmonArgs(base)).toEqual([...common, ...files]);
  });

  it('adds -t, -i, -T and --log-size-max when asked', () => {
    expect(conmonArgs({ ...base, terminal: true, stdin: true, timeoutSeconds: 2.2, logMaxBytes: 1048576 })).toEqual([
      ...common, ...files, '-t', '-i', '-T', '3', '--log-size-max', '1048576',
    ]);
  });

  it('restores with --restore, passes criu as a runtime arg and restore flags as runtime opts', () => {
    expect(conmonArgs({ ...base, criu: '/usr/local/bin/stasis-criu', restoreFrom: '/ck/1/criu', restoreArgs: ['--tcp-established', '--file-locks'] })).toEqual([
      ...common, '--runtime-arg', '--criu', '--runtime-arg', '/usr/local/bin/stasis-criu', ...files,
      '--restore', '/ck/1/criu', '--runtime-opt', '--tcp-established', '--runtime-opt', '--file-locks',
    ]);
  });

  it('execs with -e --exec-process-spec and a uuid taken from the run dir', () => {
    const o = { ...base, bundle: '/x/exec/e1', runDir: '/x/exec/e1', exec: { processSpecPath: '/x/exec/e1/process.json' } };
    const argv = conmonArgs(o);
    expect(argv.slice(0, 6)).toEqual(['--api-version', '1', '-c', 'default.job-1', '-u', 'e1']);
    expect(argv.slice(-3)).toEqual(['-e', '--exec-process-spec', '/x/exec/e1/process.json']);
    expect(argv).not.toContain('--restore');
  });

  it('passes an exit command with its arguments', () => {
    expect(conmonArgs({ ...base, exitCommand: { path: '/bin/notify', args: ['a', 'b'] } }).slice(-6)).toEqual([
      '--exit-command', '/bin/notify', '--exit-command-arg', 'a', '--exit-command-arg', 'b',
    ]);
  });
});
