/**
 * The host checks a runner node runs once at start (the same ones as `stasis doctor`), sorted by what
 * they mean for taking jobs: a failed check the node needs to run any job makes it unready; CRIU and
 * iptables-restore only matter for checkpoints, the image tools only for images, redis-server only
 * for an embedded Redis: those are warnings.
 */
import type { CheckResult } from '../host/checks.js';
import type { HostGate } from './readiness.js';

/** Checks that only limit some jobs: their failure is a warning. */
const DEGRADING = new Set(['criu', 'iptables-restore', 'umoci', 'skopeo', 'redis-server']);

/** The gate of a node from its check results (pure). */
export function hostGate(results: CheckResult[]): Extract<HostGate, { state: 'done' }> {
  const failed: string[] = [];
  const warnings: string[] = [];
  for (const r of results) {
    if (r.status === 'ok') continue;
    const line = `${r.name}: ${r.detail}`;
    if (r.status === 'missing' && !DEGRADING.has(r.name)) failed.push(line);
    else warnings.push(line);
  }
  return { state: 'done', failed, warnings };
}
