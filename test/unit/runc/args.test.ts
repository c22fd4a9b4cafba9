import { describe, expect, it } from 'vitest';
import * as a from '../../../src/runc/args.js';

const g = { root: '/run/stasis/runc' };
const gc = { root: '/r', criu: '/usr/local/bin/stasis-criu' };

describe('runc argv builders', () => {
  it.each([
    ['global flags without criu', a.globalArgs(g), ['--root', '/run/stasis/runc']],
    ['global flags with criu', a.globalArgs(gc), ['--root', '/r', '--criu', '/usr/local/bin/stasis-criu']],
    ['state', a.stateArgs(g, 'c1'), ['--root', '/run/stasis/runc', 'state', 'c1']],
    ['list', a.listArgs(g), ['--root', '/run/stasis/runc', 'list', '--format', 'json']],
    ['start', a.startArgs(g, 'c1'), ['--root', '/run/stasis/runc', 'start', 'c1']],
    ['kill by name', a.killArgs(g, 'c1', 'SIGTERM'), ['--root', '/run/stasis/runc', 'kill', 'c1', 'TERM']],
    ['kill by number', a.killArgs(g, 'c1', 9), ['--root', '/run/stasis/runc', 'kill', 'c1', '9']],
    ['kill --all', a.killArgs(g, 'c1', 'kill', true), ['--root', '/run/stasis/runc', 'kill', '--all', 'c1', 'KILL']],
    ['pause', a.pauseArgs(g, 'c1'), ['--root', '/run/stasis/runc', 'pause', 'c1']],
    ['resume', a.resumeArgs(g, 'c1'), ['--root', '/run/stasis/runc', 'resume', 'c1']],
    ['ps', a.psArgs(g, 'c1'), ['--root', '/run/stasis/runc', 'ps', '--format', 'json', 'c1']],
    ['stats', a.statsArgs(g, 'c1'), ['--root', '/run/stasis/runc', 'events', '--stats', 'c1']],
    ['update from stdin', a.updateArgs(g, 'c1', '-'), ['--root', '/run/stasis/runc', 'update', '--resources', '-', 'c1']],
    ['delete', a.deleteArgs(g, 'c1'), ['--root', '/run/stasis/runc', 'delete', 'c1']],
    ['delete --force', a.deleteArgs(g, 'c1', true), ['--root', '/run/stasis/runc', 'delete', '--force', 'c1']],
  ])('%s', (_name, got, want) => {
    expect(got).toEqual(want);
  });

  it('checkpoint passes criu globally and only the flags that are set', () => {
    expect(a.checkpointArgs(gc, 'c1', { imagePath: '/ck/criu', workPath: '/ck/work' })).toEqual([
      '--root', '/r', '--criu', '/usr/local/bin/stasis-criu',
      'checkpoint', '--image-path', '/ck/criu', '--work-path', '/ck/work', 'c1',
    ]);
  });

  it('checkpoint maps every option to its runc flag', () => {
    const argv = a.checkpointArgs(g, 'c1', {
      imagePath: '/i', workPath: '/w', leaveRunning: true, tcpEstablished: true, fileLocks: true,
      externalUnixSockets: true, shellJob: true, preDump: true, parentPath: '../prev',
    });
    expect(argv).toEqual([
      '--root', '/run/stasis/runc', 'checkpoint', '--image-path', '/i', '--work-path', '/w',
      '--parent-path', '../prev', '--pre-dump', '--leave-running', '--tcp-established', '--file-locks',
      '--ext-unix-sk', '--shell-job', 'c1',
    ]);
  });

  it('exec puts flags before the id and the command after it', () => {
    expect(a.execArgs(g, 'c1', ['sh', '-c', 'echo $X'], { env: ['X=1', 'Y=2'], cwd: '/tmp', user: '1000:1000', ignorePaused: true })).toEqual([
      '--root', '/run/stasis/runc', 'exec', '--env', 'X=1', '--env', 'Y=2', '--cwd', '/tmp', '--user', '1000:1000',
      '--ignore-paused', 'c1', 'sh', '-c', 'echo $X',
    ]);
  });

  it.each([
    ['SIGKILL', 'KILL'],
    ['term', 'TERM'],
    [' sigusr1 ', 'USR1'],
    [15, '15'],
  ])('normalizeSignal(%j) is %j', (input, want) => {
    expect(a.normalizeSignal(input)).toBe(want);
  });
});
