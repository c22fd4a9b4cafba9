import { describe, expect, it } from 'vitest';
import { embeddedRedisPaths, redisServerArgs } from '../../../src/queue/embedded-redis.js';

describe('embedded Redis argv', () => {
  it('listens only on a 700 unix socket under the state dir, with an append-only file', () => {
    const p = embeddedRedisPaths('/var/lib/stasis');
    expect(p.socket).toBe('/var/lib/stasis/redis/redis.sock');
    const a = redisServerArgs(p);
    const flag = (f: string) => a[a.indexOf(f) + 1];
    expect(flag('--port')).toBe('0');
    expect(flag('--unixsocket')).toBe(p.socket);
    expect(flag('--unixsocketperm')).toBe('700');
    expect(flag('--dir')).toBe('/var/lib/stasis/redis');
    expect(flag('--appendonly')).toBe('yes');
    expect(flag('--pidfile')).toBe(p.pidfile);
    expect(flag('--logfile')).toBe(p.logfile);
  });
});
