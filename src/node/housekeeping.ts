/**
 * A node's periodic work: dropping kept orphans and detached attempts whose jobs went elsewhere
 * (every few seconds), and pruning kept logs and failed-restore logs by age and size (hourly).
 */
import path from 'node:path';
import { failuresDir } from '../runtime/layout.js';
import type { NodeParts } from './parts.js';
import type { RecoveryContext } from './recovery.js';
import { sweepOrphans } from './recovery.js';
import { pruneDir } from './retention.js';

/** Starts the node's timers; returns the function that stops them. */
export function startHousekeeping(p: NodeParts, ctx: RecoveryContext): () => void {
  const { config, consumer, queue, onError } = p;
  const sweep = setInterval(() => {
    if (consumer.orphans.size > 0) void sweepOrphans(ctx).catch(onError);
    void consumer.sweepDetached(queue).catch(onError);
  }, Math.min(config.stalledIntervalMs, 5_000));
  sweep.unref();
  const retention = { maxAgeMs: config.logRetentionMs, maxBytes: config.logRetentionBytes };
  const stateDir = p.runtime.stateDir;
  const prune = () => Promise.all([pruneDir(path.join(stateDir, 'logs'), retention), pruneDir(failuresDir(stateDir), retention)]);
  void prune().catch(onError);
  const pruner = setInterval(() => void prune().catch(onError), 3600_000);
  pruner.unref();
  return () => {
    clearInterval(sweep);
    clearInterval(pruner);
  };
}
