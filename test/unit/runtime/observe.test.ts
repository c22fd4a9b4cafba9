import { describe, expect, it } from 'vitest';
import { deriveStatus, exitFrom, signalOf, type Facts } from '../../../src/runtime/observe.js';

const NOW = '2026-11-28T10:00:00.000Z';
const EXITED_AT = '2026-11-28T09:59:00.000Z';
const base: Facts = { exit: null, runc: null, monitorAlive: false, pid: 42, started: true, pausing: false, checkpointImage: false };
const exit = (status: number, extra: Partial<{ oom: boolean; timedOut: boolean }> = {}) => ({
  status,
  exitedAt: EXITED_AT,
  oom: false,
  timedOut: false,
  ...extra,
});

describe('deriveStatus (runtime-facts §3.3)', () => {
  it('reports an exit file as stopped with the exit file time, whatever runc says', () => {
    for (const runc of [null, 'stopped', 'running'] as const) {
      const d = deriveStatus({ ...base, runc, exit: exit(42) }, NOW);
      expect(d).toMatchObject({ status: 'stopped', lost: false });
      expect(d.exit).toEqual({ pid: 42, status: 42, signal: null, exitedAt: EXITED_AT, reason: 'exited' });
    }
  });

  it('names the signal of a status above 128', () => {
    expect(deriveStatus({ ...base, exit: exit(137) }, NOW).exit).toMatchObject({ status: 137, signal: 'SIGKILL', reason: 'exited' });
    expect(signalOf(143)).toBe('SIGTERM');
    expect(signalOf(1)).toBeNull();
  });

  it('reports oom and timeout reasons from the monitor', () => {
    expect(deriveStatus({ ...base, exit: exit(137, { oom: true }) }, NOW).exit?.reason).toBe('oom');
    expect(deriveStatus({ ...base, exit: exit(137, { timedOut: true }) }, NOW).exit?.reason).toBe('timeout');
    expect(exitFrom({ status: -1, exitedAt: EXITED_AT, oom: false, timedOut: true }, 1, false)).toMatchObject({ status: 137, signal: 'SIGKILL' });
  });

  it('reports exit 137 + container gone + checkpoint image as checkpointed', () => {
    const d = deriveStatus({ ...base, exit: exit(137), runc: null, checkpointImage: true }, NOW);
    expect(d.exit?.reason).toBe('checkpointed');
    expect(deriveStatus({ ...base, exit: exit(0), checkpointImage: true }, NOW).exit?.reason).toBe('exited');
    expect(deriveStatus({ ...base, exit: exit(137), runc: null, checkpointImage: false }, NOW).exit?.reason).toBe('exited');
  });

  it('reports created + live monitor as created, created + dead monitor as a half-launched loss', () => {
    expect(deriveStatus({ ...base, runc: 'created', monitorAlive: true, started: false }, NOW).status).toBe('created');
    const d = deriveStatus({ ...base, runc: 'created', monitorAlive: false, started: false }, NOW);
    expect(d).toMatchObject({ status: 'stopped', lost: true, halfLaunched: true });
    expect(d.exit).toMatchObject({ status: 255, reason: 'lost' });
  });

  it('reports running and paused with a live monitor, pausing while the marker is there', () => {
    expect(deriveStatus({ ...base, runc: 'running', monitorAlive: true }, NOW).status).toBe('running');
    expect(deriveStatus({ ...base, runc: 'running', monitorAlive: true, pausing: true }, NOW).status).toBe('pausing');
    expect(deriveStatus({ ...base, runc: 'paused', monitorAlive: true }, NOW).status).toBe('paused');
  });

  it('reports a dead monitor without exit file as lost (255) with a stable time once recorded', () => {
    const d = deriveStatus({ ...base, runc: 'running', monitorAlive: false, lostAt: EXITED_AT }, NOW);
    expect(d).toMatchObject({ status: 'stopped', lost: true, halfLaunched: false });
    expect(d.exit).toMatchObject({ status: 255, reason: 'lost', exitedAt: EXITED_AT, signal: null });
  });

  it('treats runc stopped + live monitor as running (the exit file is moments away)', () => {
    expect(deriveStatus({ ...base, runc: 'stopped', monitorAlive: true }, NOW).status).toBe('running');
  });

  it('treats a dir with neither container nor exit and a dead monitor as half-launched', () => {
    expect(deriveStatus({ ...base, started: false }, NOW)).toMatchObject({ status: 'stopped', halfLaunched: true });
    expect(deriveStatus({ ...base, started: false, monitorAlive: true }, NOW).status).toBe('created');
  });
});
