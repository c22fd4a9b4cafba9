import { describe, expect, it } from 'vitest';
import { chooseConnection, redact, redisOptionsFromUrl } from '../../../src/queue/connection.js';

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
