/**
 * Whether a runner node is ready to take jobs (`/readyz`), from what it knows of itself. Pure: the
 * HTTP side turns the answer into 200 or 503 with this object as the JSON body.
 */

/** Where a node is in its life. */
export type NodePhase = 'starting' | 'running' | 'draining' | 'closing';

/** The host checks the node ran at start (health/host-gate.ts). */
export type HostGate =
  | { state: 'pending' }
  | { state: 'done'; failed: string[]; warnings: string[] }
  /** Not run (serve without --http, or in-process runners). */
  | { state: 'skipped' };

/** What readiness is decided from. */
export interface ReadinessInput {
  phase: NodePhase;
  redisReachable: boolean;
  host: HostGate;
}

/** The answer: `ready`, and why not (one short phrase each), plus warnings that do not make it unready. */
export interface Readiness {
  ready: boolean;
  reasons: string[];
  warnings: string[];
}

/** Decides readiness: running, Redis reachable, and every required host check passed. */
export function readiness(i: ReadinessInput): Readiness {
  const reasons: string[] = [];
  switch (i.phase) {
    case 'starting':
      reasons.push('the node is starting (recovering its tasks)');
      break;
    case 'draining':
      reasons.push('the node is draining');
      break;
    case 'closing':
      reasons.push('the node is closing');
      break;
    case 'running':
      break;
    default: {
      const never: never = i.phase;
      reasons.push(`unknown phase ${String(never)}`);
    }
  }
  if (!i.redisReachable) reasons.push('Redis is unreachable');
  const warnings: string[] = [];
  if (i.host.state === 'pending') reasons.push('host checks are still running');
  if (i.host.state === 'done') {
    for (const f of i.host.failed) reasons.push(`host check failed: ${f}`);
    warnings.push(...i.host.warnings);
  }
  return { ready: reasons.length === 0, reasons, warnings };
}
