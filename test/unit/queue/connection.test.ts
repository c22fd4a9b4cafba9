import { describe, expect, it } from 'vitest';
import { chooseConnection, redact, redisOptionsFromUrl } from '../../../src/queue/connection.js';
import { embeddedRedisPaths, redisServerArgs } from '../../../src/queue/embedded-redis.js';
import { cancelChannel, cancelKey, parseCancelRequest } from '../../../src/queue/cancel.js';

describe('chooseConnection', () => {
  it('prefers --redis over REDIS_URL', () => {
    expect(chooseConnection('redis://a:1', { REDIS_URL: 'redis://b:2' })).toEqual({ source: 'flag', url: 'redis://a:1' });
  });
  it('uses REDIS_URL when there is no flag', () => {
    expect(chooseConnection(undefined, { REDIS_URL: 'redis://b:2' })).toEqual({ source: 'env', url: 'redis://b:2' });
  });
  it('falls back to the embedded Redis, treating empty values as unset', () => {
    expect(chooseConnection(undefined, {})).toEqual({ source: 'embedded' });
    expect(chooseConnection('', { REDIS_URL: '' })).toEqual({ source: 'embedded' });
  });
});

describe('redisOptionsFromUrl', () => {
  it('maps host, port, credentials and db, always with maxRetriesPerRequest null', () => {
    expect(redisOptionsFromUrl('redis://u:p%40ss@example.internal:6380/2')).toEqual({
      maxRetriesPerRequest: null,
      host: 'example.internal',
      port: 6380,
      username: 'u',
      password: 'p@ss',
      db: 2,
    });
  });
  it('defaults the port to 6379 and turns on TLS for rediss://', () => {
    expect(redisOptionsFromUrl('rediss://localhost')).toEqual({ maxRetriesPerRequest: null, host: 'localhost', port: 6379, tls: {} });
  });
  it('accepts unix socket URLs', () => {
    expect(redisOptionsFromUrl('unix:///run/redis.sock')).toEqual({ maxRetriesPerRequest: null, path: '/run/redis.sock' });
    expect(redisOptionsFromUrl('redis+unix:///run/redis.sock?db=3')).toMatchObject({ path: '/run/redis.sock', db: 3 });
  });
  it('rejects other schemes and garbage naming the field', () => {
    expect(() => redisOptionsFromUrl('http://x', '--redis')).toThrow(/Expected `--redis` to be a Redis URL.*unsupported scheme/);
    expect(() => redisOptionsFromUrl('not a url', 'REDIS_URL')).toThrow(/`REDIS_URL`/);
    expect(() => redisOptionsFromUrl('redis://h/abc')).toThrow(/database `abc`/);
  });
  it('never puts a password into an error message', () => {
    expect(() => redisOptionsFromUrl('http://u:secret@h')).toThrow(/\*\*\*/);
    expect(() => redisOptionsFromUrl('http://u:secret@h')).not.toThrow(/secret/);
    expect(redact('redis://u:secret@h:1')).toBe('redis://u:***@h:1');
  });
});

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

describe('cancel requests', () => {
  it('use a per-queue channel and a per-job key under the BullMQ prefix', () => {
    expect(cancelChannel({ queue: 'stasis' })).toBe('bull:stasis:stasis:cancel');
    expect(cancelKey({ queue: 'q', prefix: 'p' }, '42')).toBe('p:q:stasis:cancel:42');
  });
  it('parse only well-formed requests', () => {
    expect(parseCancelRequest('{"jobId":"1","reason":"x","requestedAt":"t"}')).toEqual({ jobId: '1', reason: 'x', requestedAt: 't' });
    expect(parseCancelRequest('{"jobId":1}')).toBeNull();
    expect(parseCancelRequest('nope')).toBeNull();
    expect(parseCancelRequest(null)).toBeNull();
  });
});
