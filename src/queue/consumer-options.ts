/** The options a runner node gives its JobConsumer (consumer.ts). */
import type { RedisOptions } from 'ioredis';
import type { IdMapping } from '../config/schema.js';
import type { RunnerConfig } from '../config/runner.js';
import type { NodeEventSink } from '../events/node-events.js';
import type { ImageStore } from '../image/store.js';
import type { RootfsContext } from '../policy/rootfs.js';
import type { NodePolicy } from '../policy/schema.js';
import type { TaskPool } from '../pool/pool.js';
import type { OutageWatch } from './outage.js';

/** Options of JobConsumer. */
export interface JobConsumerOptions {
  config: RunnerConfig;
  connection: RedisOptions;
  pool: TaskPool;
  /** The node policy's view of the node: its default rootfs, state dir, checkpoint store. */
  rootfs: RootfsContext;
  /** The node's user-namespace mapping (payload ids must fit in it). */
  userns: IdMapping | null;
  /** The operator's node policy (limits, rootfs, network, images). */
  policy: NodePolicy;
  /** The node's image store (jobs that name an `image`). */
  images?: ImageStore;
  /** Background errors; each Redis outage is reported once. */
  onError?: (e: unknown) => void;
  /** The node's view of Redis reachability (one per node, shared with its other clients); default: its own. */
  outage?: OutageWatch;
  /** CRIU and runc binaries (checkpoint manifests, compatibility checks). */
  binaries?: { criu: string; runc: string };
  /** Asks another node to take over a job under a lock token (handoff.ts); false when it did not. */
  handOff?: (nodeId: string, jobId: string, token: string, why: 'holder' | 'target') => Promise<boolean>;
  /** The node's lifecycle events (taken, started, …, posted); default: dropped. */
  events?: NodeEventSink;
  /** Failures that do not end a job (lost output, a kept log): default onError. */
  warn?: (e: unknown, fields: Record<string, unknown>) => void;
}
