/** The runc client's contract: what the runtime may ask of runc, as plain types (RuncClient). */
import type { CheckpointFlags, ExecFlags } from './args.js';

/** How to call runc: the binary, its state root and (for checkpoint/restore) the CRIU binary. */
export interface RuncOptions {
  binary: string;
  root: string;
  criu?: string;
  /** Added to runc's environment (and so to CRIU's, which runc starts). */
  env?: Record<string, string>;
  /** Kill a runc call that takes longer than this (ms) and fail it with ERR_UNAVAILABLE; none by default. */
  timeoutMs?: number;
  /**
   * The fast paths that read runc's state dir instead of spawning it (state, start, delete of a
   * stopped container): 'auto' (default) uses them when `runc --version` is one they follow
   * (version.ts), false never.
   */
  fastPaths?: 'auto' | false;
}

/** A container status as runc reports it. */
export type RuncStatus = 'created' | 'running' | 'paused' | 'stopped';

/** `runc state` / `runc list` output for one container. */
export interface RuncState {
  id: string;
  /** Init pid on the host; 0 once stopped. */
  pid: number;
  status: RuncStatus;
  bundle: string;
  /** Creation time (ISO 8601, as runc prints it). */
  created: string;
  rootfs?: string;
  annotations?: Record<string, string>;
}

/** Options of a checkpoint: runc's flags (the CRIU binary comes from RuncOptions.criu). */
export type CheckpointArgs = CheckpointFlags;

/** Result of a foreground `runc exec`. */
export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * What the runtime asks of runc for one state root. `Runc` speaks to the real binary; tests use a
 * fake that records the calls (test/helpers/fake-runc.ts). create/restore are not here: the
 * per-task monitor (conmon) runs them.
 */
export interface RuncClient {
  readonly opts: RuncOptions;
  /** The container's state, or null when it does not exist (never created, deleted, or checkpointed). */
  state(id: string): Promise<RuncState | null>;
  /** All containers under this root. */
  list(): Promise<RuncState[]>;
  /** Starts a created container (runs the user process). */
  start(id: string): Promise<void>;
  /** Sends a signal (name like 'KILL'/'SIGTERM' or a number) to init, or to every process with `all`. */
  kill(id: string, signal: string | number, all?: boolean): Promise<void>;
  /** Freezes every process of the container. */
  pause(id: string): Promise<void>;
  /** Thaws a paused container. */
  resume(id: string): Promise<void>;
  /** Host pids of the container's processes. */
  ps(id: string): Promise<number[]>;
  /** One stats sample: runc's `data` object. */
  stats(id: string): Promise<unknown>;
  /** Updates cgroup limits from an OCI `linux.resources` object. */
  update(id: string, resources: Record<string, unknown>): Promise<void>;
  /** Checkpoints the container with CRIU (ERR_CHECKPOINT with details.criuLog on failure). */
  checkpoint(id: string, a: CheckpointArgs): Promise<void>;
  /** Deletes the container's runc state; `force` kills it first. No error when it does not exist. */
  delete(id: string, force?: boolean): Promise<void>;
  /** Runs a process in the container in the foreground; its exit code and output. */
  exec(id: string, argv: string[], flags?: ExecFlags): Promise<ExecResult>;
}
