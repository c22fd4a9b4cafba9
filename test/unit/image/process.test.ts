import { describe, expect, it } from 'vitest';
import type { ImageConfig } from '../../../src/image/config.js';
import { DEFAULT_PATH, effectiveProcess, mergeEnv, userOf } from '../../../src/image/process.js';

const base: ImageConfig = { env: ['PATH=/usr/bin:/bin', 'LANG=C.UTF-8'], labels: {} };
const withBoth: ImageConfig = { ...base, entrypoint: ['/usr/bin/tool', '--serve'], cmd: ['--port', '80'], workingDir: '/srv', user: 'app' };

describe('effectiveProcess', () => {
  it('runs Entrypoint followed by Cmd when the job gives no command', () => {
    expect(effectiveProcess({ config: withBoth })).toEqual({
      args: ['/usr/bin/tool', '--serve', '--port', '80'],
      env: ['PATH=/usr/bin:/bin', 'LANG=C.UTF-8'],
      cwd: '/srv',
      user: { name: 'app' },
    });
  });

  it('replaces Cmd with the job command and appends it to Entrypoint', () => {
    expect(effectiveProcess({ config: withBoth, command: ['--check'] }).args).toEqual(['/usr/bin/tool', '--serve', '--check']);
  });

  it('runs the job command alone when the image has only a Cmd', () => {
    expect(effectiveProcess({ config: { ...base, cmd: ['sh'] }, command: ['echo', 'hi'] }).args).toEqual(['echo', 'hi']);
    expect(effectiveProcess({ config: { ...base, cmd: ['sh'] } }).args).toEqual(['sh']);
  });

  it('drops the image Cmd when the entrypoint is overridden, as docker run --entrypoint does', () => {
    expect(effectiveProcess({ config: withBoth, entrypointOverride: ['/bin/sh'] }).args).toEqual(['/bin/sh']);
    expect(effectiveProcess({ config: withBoth, entrypointOverride: ['/bin/sh'], command: ['-c', 'true'] }).args).toEqual(['/bin/sh', '-c', 'true']);
    expect(effectiveProcess({ config: withBoth, entrypointOverride: [], command: ['ls'] }).args).toEqual(['ls']);
  });

  it('fails naming `command` when neither the job nor the image says what to run', () => {
    expect(() => effectiveProcess({ config: base, image: 'r/x:1' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: 'image r/x:1 has no Entrypoint or Cmd, so the job must set `command`', details: { field: 'command' } }),
    );
    expect(() => effectiveProcess({ config: withBoth, entrypointOverride: [] })).toThrow(/must set `command`/);
  });

  it('lets the job env win key by key and keeps the image order', () => {
    expect(effectiveProcess({ config: withBoth, env: { LANG: 'de_DE', NEW: '1' } }).env).toEqual(['PATH=/usr/bin:/bin', 'LANG=de_DE', 'NEW=1']);
  });

  it('lets the job cwd and user win', () => {
    const p = effectiveProcess({ config: withBoth, cwd: '/tmp', user: { uid: 5, gid: 6 } });
    expect(p.cwd).toBe('/tmp');
    expect(p.user).toEqual({ uid: 5, gid: 6 });
    expect(effectiveProcess({ config: withBoth, user: 'nobody:nogroup' }).user).toEqual({ name: 'nobody:nogroup' });
  });

  it('defaults cwd to / and the user to root', () => {
    const p = effectiveProcess({ config: { ...base, cmd: ['x'] } });
    expect(p.cwd).toBe('/');
    expect(p.user).toEqual({ uid: 0, gid: 0 });
  });

  it('refuses a relative working directory', () => {
    expect(() => effectiveProcess({ config: { ...withBoth, workingDir: 'srv' } })).toThrow(/absolute path, got `srv`/);
    expect(() => effectiveProcess({ config: withBoth, cwd: 'tmp' })).toThrow(expect.objectContaining({ details: { field: 'cwd' } }));
  });
});

describe('mergeEnv', () => {
  it('adds docker default PATH when neither side sets one', () => {
    expect(mergeEnv(['A=1'], {})).toEqual(['A=1', `PATH=${DEFAULT_PATH}`]);
  });

  it('keeps = inside values and treats a bare name as empty', () => {
    expect(mergeEnv(['A=x=y', 'B'], { PATH: '/bin' })).toEqual(['A=x=y', 'B=', 'PATH=/bin']);
  });

  it('refuses a key with =', () => {
    expect(() => mergeEnv([], { 'A=B': '1' })).toThrow(expect.objectContaining({ details: { field: 'env' } }));
  });
});

describe('userOf', () => {
  it.each([
    ['', { uid: 0, gid: 0 }],
    ['1000:1000', { uid: 1000, gid: 1000 }],
    ['1000', { name: '1000' }],
    ['app', { name: 'app' }],
    ['app:staff', { name: 'app:staff' }],
    ['app:50', { name: 'app:50' }],
  ])('%j → %j', (u, want) => {
    expect(userOf(u)).toEqual(want);
  });

  it('refuses more than one colon', () => {
    expect(() => userOf('a:b:c')).toThrow(/`name`, `uid`, `name:group` or `uid:gid`/);
  });
});
