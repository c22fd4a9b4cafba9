import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import { embeddedRedisPaths, ensureEmbeddedRedis, pingSocket, stopEmbeddedRedis } from '../../../src/queue/embedded-redis.js';
import { resolveConnection } from '../../../src/queue/connection.js';

describeWithHost(['redis-server'], 'embedded Redis', () => {
  let stateDir = '';
  beforeAll(async () => {
    stateDir = await fs.mkdtemp(path.join(os.tmpdir(), `stasis-er-${randomUUID().slice(0, 8)}-`));
  });
  afterAll(async () => {
    await stopEmbeddedRedis(stateDir);
    await fs.rm(stateDir, { recursive: true, force: true });
  });

  it('starts on a private unix socket only, is reused by a second call, and the last release stops it', async () => {
    const p = embeddedRedisPaths(stateDir);
    const first = await ensureEmbeddedRedis({ stateDir });
    expect(first.started).toBe(true);
    expect(first.socket).toBe(p.socket);
    expect((await fs.stat(p.socket)).isSocket()).toBe(true);
    expect((await fs.stat(p.dir)).mode & 0o777).toBe(0o700);

    const redis = new Redis({ path: first.socket, maxRetriesPerRequest: null });
    expect(await redis.config('GET', 'port')).toEqual(['port', '0']);
    expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
    await redis.set('k', 'v');
    await redis.quit();

    const second = await ensureEmbeddedRedis({ stateDir });
    expect(second.started).toBe(false);
    expect(second.pid).toBe(first.pid);

    expect(await first.release()).toBe(false); // the second lease still holds it
    expect(await pingSocket(p.socket)).toBe(true);
    expect(await second.release()).toBe(true);
    expect(await pingSocket(p.socket)).toBe(false);
    const pid = first.pid!;
    const stat = await fs.readFile(`/proc/${pid}/stat`, 'utf8').catch(() => 'x) Z');
    expect(stat.slice(stat.lastIndexOf(')') + 2)[0]).toBe('Z');
  });

  it('keeps its data across a restart (append-only file under the state dir)', async () => {
    const a = await ensureEmbeddedRedis({ stateDir });
    const r1 = new Redis({ path: a.socket, maxRetriesPerRequest: null });
    await r1.set('persisted', 'yes');
    await r1.quit();
    await a.release();
    const b = await ensureEmbeddedRedis({ stateDir });
    expect(b.started).toBe(true);
    const r2 = new Redis({ path: b.socket, maxRetriesPerRequest: null });
    expect(await r2.get('persisted')).toBe('yes');
    await r2.quit();
    await b.release();
  });

  it('ignores leases of dead processes when deciding who stops it', async () => {
    const p = embeddedRedisPaths(stateDir);
    const a = await ensureEmbeddedRedis({ stateDir });
    await fs.writeFile(path.join(p.users, '999999.deadbeef'), 'x');
    expect(await a.release()).toBe(true);
    expect(await fs.readdir(p.users)).toEqual([]);
  });

  it('resolveConnection() without --redis or REDIS_URL uses the embedded socket', async () => {
    const conn = await resolveConnection({ env: {}, stateDir });
    expect(conn.source).toBe('embedded');
    expect(conn.options.path).toBe(embeddedRedisPaths(stateDir).socket);
    expect(conn.options.maxRetriesPerRequest).toBeNull();
    const r = new Redis(conn.options);
    expect(await r.ping()).toBe('PONG');
    await r.quit();
    await conn.release();
    expect(await pingSocket(embeddedRedisPaths(stateDir).socket)).toBe(false);
  });

  it('two starts at once share one server (the start is under a lock)', async () => {
    const [a, b] = await Promise.all([ensureEmbeddedRedis({ stateDir }), ensureEmbeddedRedis({ stateDir })]);
    expect([a.started, b.started].sort()).toEqual([false, true]);
    expect(a.pid).toBe(b.pid);
    await a.release();
    expect(await b.release()).toBe(true);
  });

  it('--redis / REDIS_URL win over the embedded Redis and start nothing', async () => {
    const a = await ensureEmbeddedRedis({ stateDir });
    const other = await fs.mkdtemp(path.join(os.tmpdir(), 'stasis-er-other-'));
    try {
      const viaFlag = await resolveConnection({ redis: `unix://${a.socket}`, env: { REDIS_URL: 'redis://nowhere:1' }, stateDir: other });
      expect(viaFlag.source).toBe('flag');
      const viaEnv = await resolveConnection({ env: { REDIS_URL: `redis+unix://${a.socket}` }, stateDir: other });
      expect(viaEnv.source).toBe('env');
      for (const c of [viaFlag, viaEnv]) {
        const r = new Redis(c.options);
        expect(await r.ping()).toBe('PONG');
        await r.quit();
        await c.release();
      }
      expect(await pingSocket(embeddedRedisPaths(other).socket)).toBe(false);
      expect(await pingSocket(a.socket)).toBe(true);
    } finally {
      await a.release();
      await fs.rm(other, { recursive: true, force: true });
    }
  });
});
