/**
 * Running a short-lived command (mount, umount, runc) to its end, and starting a monitor: argv
 * arrays, never a shell. In a task worker thread both are forked by the thread's spawn helper
 * (src/os/spawn-protocol.ts), elsewhere in this process (execa for commands). Either way the caller
 * gets the same plain result.
 */
import { execa } from 'execa';
import { pipeLaunch, type PipeLaunchRequest, type PipeLaunchResult } from './pipe-launch.js';
import type { CommandReply } from './spawn-protocol.js';
import { helperEntry, SpawnHelperClient } from './spawn-helper-client.js';

/** How a command ended; `error` is set when it could not be started (or its helper died). */
export type CommandResult = Omit<CommandReply, 'id' | 'kind'>;

/** Options of runCommand. */
export interface CommandOptions {
  input?: string;
  timeoutMs?: number;
  cwd?: string;
  /** Added to this process' environment. */
  env?: Record<string, string>;
}

let helper: SpawnHelperClient | undefined;

/**
 * Routes this thread's commands through a spawn helper process (STASIS_SPAWN_HELPER=0 keeps them
 * in-process). A no-op when the compiled helper is not there (running from sources) and no `entry`
 * names it. With `eager` the helper process starts now, not with the thread's first command.
 */
export function useSpawnHelper(o: { entry?: string; env?: NodeJS.ProcessEnv; eager?: boolean } = {}): void {
  if (helper || (o.env ?? process.env).STASIS_SPAWN_HELPER === '0') return;
  const entry = o.entry ?? helperEntry(import.meta.url);
  if (!entry) return;
  helper = new SpawnHelperClient(entry);
  if (o.eager) helper.start();
}

/** Stops this thread's spawn helper, if it has one. */
export function closeSpawnHelper(): void {
  helper?.close();
  helper = undefined;
}

/** Runs `file` with `args` and resolves with how it ended (it never rejects). */
export async function runCommand(file: string, args: string[], o: CommandOptions = {}): Promise<CommandResult> {
  if (helper) {
    const { kind: _kind, id: _id, ...r } = await helper.run({ file, args, ...o });
    return r;
  }
  const r = await execa(file, args, {
    reject: false,
    stdin: o.input === undefined ? 'ignore' : 'pipe',
    ...(o.input === undefined ? {} : { input: o.input }),
    ...(o.cwd ? { cwd: o.cwd } : {}),
    ...(o.env ? { env: o.env } : {}),
    stripFinalNewline: false,
    encoding: 'utf8',
    ...(o.timeoutMs ? { timeout: o.timeoutMs, killSignal: 'SIGKILL' as const } : {}),
  });
  const cause = (r as { cause?: unknown }).cause;
  const notStarted = r.failed && r.exitCode === undefined && r.signal === undefined && !r.timedOut;
  return {
    stdout: String(r.stdout ?? ''),
    stderr: String(r.stderr ?? ''),
    exitCode: r.exitCode ?? null,
    signal: r.signal ?? null,
    timedOut: r.timedOut,
    ...(notStarted ? { error: cause instanceof Error ? cause.message : r.message } : {}),
  };
}

/** A one-line account of a failed command: its stderr, or how it ended. */
export function failureText(r: CommandResult): string {
  return r.error ?? (r.stderr.trim() || (r.timedOut ? 'timed out' : r.signal ? `killed by ${r.signal}` : `exited with status ${r.exitCode}`));
}

/**
 * Starts a conmon-style monitor (src/os/pipe-launch.ts), through the spawn helper when there is one.
 * Without `onSpawned` it is released at once (no round trip to this thread for its start byte). A
 * `standby` monitor, kept ready until `onSpawned` resolves, does not hold the thread open meanwhile
 * (through the helper; without one it is started in this process and holds it).
 */
export function launchWithPipes(req: PipeLaunchRequest, onSpawned?: (pid: number) => void | Promise<void>, standby = false): Promise<PipeLaunchResult> {
  return helper ? helper.launch(req, onSpawned, standby) : pipeLaunch(req, onSpawned);
}
