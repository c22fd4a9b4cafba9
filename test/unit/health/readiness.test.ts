import { describe, expect, it } from 'vitest';
import { readiness, type ReadinessInput } from '../../../src/health/readiness.js';
import { hostGate } from '../../../src/health/host-gate.js';
import type { CheckResult } from '../../../src/host/checks.js';

const ok: ReadinessInput = { phase: 'running', redisReachable: true, host: { state: 'done', failed: [], warnings: [] } };

describe('readiness', () => {
  it('a running node with Redis and passed host checks is ready', () => {
    expect(readiness(ok)).toEqual({ ready: true, reasons: [], warnings: [] });
    expect(readiness({ ...ok, host: { state: 'skipped' } }).ready).toBe(true);
  });

  it('each of starting, draining, closing, Redis away, pending or failed host checks makes it unready, with its reason', () => {
    expect(readiness({ ...ok, phase: 'starting' }).reasons).toEqual(['the node is starting (recovering its tasks)']);
    expect(readiness({ ...ok, phase: 'draining' }).reasons).toEqual(['the node is draining']);
    expect(readiness({ ...ok, phase: 'closing' }).reasons).toEqual(['the node is closing']);
    expect(readiness({ ...ok, redisReachable: false }).reasons).toEqual(['Redis is unreachable']);
    expect(readiness({ ...ok, host: { state: 'pending' } }).reasons).toEqual(['host checks are still running']);
    expect(readiness({ ...ok, host: { state: 'done', failed: ['runc: not found'], warnings: [] } }).reasons).toEqual(['host check failed: runc: not found']);
  });

  it('every reason is listed at once', () => {
    const r = readiness({ phase: 'draining', redisReachable: false, host: { state: 'pending' } });
    expect(r.ready).toBe(false);
    expect(r.reasons).toHaveLength(3);
  });

  it('warnings do not make a node unready', () => {
    const r = readiness({ ...ok, host: { state: 'done', failed: [], warnings: ['criu: check failed'] } });
    expect(r).toEqual({ ready: true, reasons: [], warnings: ['criu: check failed'] });
  });
});

describe('host gate', () => {
  const check = (name: string, status: CheckResult['status'], required = true): CheckResult => ({ name, status, required, detail: `${name} detail` });

  it('a missing check the node needs for every job fails the gate; CRIU, iptables, image tools and redis-server only warn', () => {
    const g = hostGate([
      check('root', 'ok'),
      check('runc', 'missing'),
      check('criu', 'missing'),
      check('iptables-restore', 'missing'),
      check('umoci', 'warn', false),
      check('redis-server', 'missing'),
      check('user namespaces', 'warn', false),
    ]);
    expect(g.failed).toEqual(['runc: runc detail']);
    expect(g.warnings).toEqual(['criu: criu detail', 'iptables-restore: iptables-restore detail', 'umoci: umoci detail', 'redis-server: redis-server detail', 'user namespaces: user namespaces detail']);
  });
});
