/**
 * The written protocol between a worker thread and its spawn helper (workers/spawn-helper.ts): one
 * request per command, a request id, and the outcome as plain data. The helper is a small Node
 * process that forks the short-lived commands of a task (mount, umount, runc) so that the large,
 * many-threaded node does not: a fork copies the forking process' page tables, ~5 ms of CPU from a
 * fresh Node against 11–30 ms from a runner node (docs/bench.md). It starts conmon too: a launch
 * is answered `launched`, and first `spawned` when it asked to wait for `start`.
 */
import type { PipeLaunchRequest, PipeLaunchResult } from './pipe-launch.js';

/** Run `file` with `args` (never a shell) to its end and report its output. */
export interface CommandRequest {
  kind: 'run';
  id: number;
  file: string;
  args: string[];
  /** Written to stdin, which is closed after it; stdin is /dev/null when absent. */
  input?: string;
  /** SIGKILL after this many ms (reported as timedOut). */
  timeoutMs?: number;
  cwd?: string;
  /** Added to the helper's environment. */
  env?: Record<string, string>;
}

/** How a command ended. `error` is set when it could not be started at all (ENOENT, EACCES). */
export interface CommandReply {
  kind: 'run';
  id: number;
  stdout: string;
  stderr: string;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  error?: string;
}

/** Bytes kept of each of stdout and stderr; more is dropped (and said at the end of the stream). */
export const OUTPUT_CAP = 16 * 1024 * 1024;

/** Start a monitor with sync and start pipes (src/os/pipe-launch.ts). */
export interface LaunchRequest extends PipeLaunchRequest {
  kind: 'launch';
  id: number;
  /** Answer `spawned` and wait for `start` (else the helper writes the start byte itself). */
  awaitStart: boolean;
}

/** Release a spawned monitor (write its start byte). */
export interface StartMessage {
  kind: 'start';
  id: number;
}

/** The monitor exists and waits on its start pipe. */
export interface SpawnedReply {
  kind: 'spawned';
  id: number;
  pid: number;
}

/** The monitor's first process ended; its sync line, if any. */
export interface LaunchReply extends PipeLaunchResult {
  kind: 'launched';
  id: number;
}

/** Every message a worker thread sends its helper. */
export type HelperRequest = CommandRequest | LaunchRequest | StartMessage;
/** Every message a helper sends back. */
export type HelperReply = CommandReply | SpawnedReply | LaunchReply;
