/** What every part of the runtime shares within one process: config, layout, the runc client, the sandbox settings. */
import path from 'node:path';
import type { IdMapping, RuntimeConfig, RuntimePaths } from '../config/schema.js';
import { Runc, type RuncClient } from '../runc/runc.js';
import { DEFAULT_SECCOMP_PROFILE } from '../sandbox/seccomp/profile.js';
import { loadSeccompProfile } from '../sandbox/seccomp/load.js';
import type { MaskSettings, OciSpec } from '../sandbox/types.js';
import { bindMaskedHere, ensureEmptyDir } from '../sandbox/masks.js';
import type { CreateTaskOptions, Task } from './task.js';
import type { LaunchResult } from '../monitor/launch.js';
import { locksDir } from './layout.js';
import { criuEnv, writeCriuConfig } from './criu-config.js';
import { compiledSeccomp } from './compiled-seccomp.js';
import { nativeStart, type NativeStart } from './native-start.js';
import type { CompiledSeccomp } from '../sandbox/seccomp/loader.js';

/** The runtime name recorded in TaskInfo.runtime. */
export const RUNTIME_NAME = 'io.stasis.runc';

/** Sandbox settings every task of a node shares (from the node policy through RuntimeConfig). */
export interface SandboxSettings {
  /** Host path of the static init (tini-static). */
  init: string;
  /** Host path of the static busybox that runs launch scripts. */
  busybox: string;
  /** The native start, every task's pid 1 instead of init and busybox (native-start.ts); undefined without it. */
  starter?: NativeStart;
  /** The user-namespace mapping, or null (container root is host root). */
  userns: IdMapping | null;
  /** linux.seccomp of every task and exec, or undefined (unconfined). */
  seccomp?: Record<string, unknown>;
  /** `seccomp` compiled once on this node, loaded by the loader in each container (compiled-seccomp.ts). */
  seccompLoader?: CompiledSeccomp;
  /** Masked directories as read-only binds of the node's empty directory, or undefined (runc's tmpfs masks). */
  masks?: MaskSettings;
}

/** Shared runtime context. */
export interface RuntimeContext {
  config: RuntimeConfig;
  paths: RuntimePaths;
  runc: RuncClient;
  sandbox: SandboxSettings;
  /** Prepared sandboxes to adopt on create (src/warm), when the manager was opened with a warm pool. */
  warm?: WarmAdopter;
  /** Monitors kept ready for restores (warm/ready-restores.ts), when the manager was opened with them. */
  readyRestores?: ReadyRestoreSource;
}

/** What a monitor is started with besides its paths: a terminal, a stdin pipe (conmon's -t, -i). */
export interface MonitorKind {
  terminal: boolean;
  stdin: boolean;
}

/** One conmon waiting on its start pipe to run `runc restore`, over a slot with the task layout. */
export interface ReadyRestore {
  /** The slot's directory (the task dir becomes a symlink to it). */
  dir: string;
  /** runc's container id for the restored task. */
  containerId: string;
  /** conmon's `--restore` path: the restore makes it a symlink to the checkpoint's CRIU images. */
  image: string;
  /** Claims the slot for `owner` (`namespace/id`, as recovery reads it); false when it was claimed already. */
  claim(owner: string): Promise<boolean>;
  /** Gives the claim back. */
  release(): Promise<void>;
  /** Lets conmon run `runc restore`. */
  start(): void;
  /** Kills conmon, which has forked nothing yet; `launched` then fails. */
  abort(): void;
  /** The launch, resolved once `runc restore` returned (after start()). */
  launched: Promise<LaunchResult>;
}

/** What a restore needs of the monitors kept ready for it. */
export interface ReadyRestoreSource {
  /** A ready monitor of `kind`, or undefined (the restore starts its own). */
  take(kind: MonitorKind): ReadyRestore | undefined;
  /** Tops `kind` up in the background. */
  refill(kind: MonitorKind): void;
  /** Kills a monitor taken but not used (before its task dir was made) and removes its slot. */
  drop(r: ReadyRestore): Promise<void>;
  /** Runs `fn` (recovery: it removes every unclaimed slot) with none of these waiting, then makes them ready again. */
  whileRecovering<T>(fn: () => Promise<T>): Promise<T>;
  /** Kills the monitors still waiting and removes their slots. */
  close(): Promise<void>;
}

/** What create needs of a warm pool: a task adopted from a prepared sandbox, or undefined (create normally). */
export interface WarmAdopter {
  adopt(o: CreateTaskOptions, a: { namespace: string; id: string; rootfs: string; spec: OciSpec }): Promise<Task | undefined>;
  /** Stops refilling and waits for the preparations under way. */
  close(): Promise<void>;
}

/** Reads the seccomp setting: 'default', 'unconfined' or an OCI profile file. */
export async function seccompFor(setting: string): Promise<Record<string, unknown> | undefined> {
  if (setting === 'unconfined') return undefined;
  if (setting === 'default') return DEFAULT_SECCOMP_PROFILE as unknown as Record<string, unknown>;
  return (await loadSeccompProfile(setting)) as unknown as Record<string, unknown>;
}

/** Builds the context for a loaded config (reads an operator's seccomp profile file once). */
export async function makeContext(config: RuntimeConfig, paths: RuntimePaths): Promise<RuntimeContext> {
  const seccomp = await seccompFor(config.seccomp);
  await writeCriuConfig(paths.stateDir);
  const masks = await maskSettings(paths.stateDir);
  const seccompLoader = seccomp ? await compiledSeccomp(config, paths, seccomp) : undefined;
  const starter = await nativeStart(process.env, paths.stateDir, config.userns);
  return {
    config,
    paths,
    runc: new Runc({ binary: config.runc, root: paths.runcRoot, criu: config.criu, env: criuEnv(paths.stateDir) }),
    sandbox: { init: config.init, busybox: config.busybox, ...(starter ? { starter } : {}), userns: config.userns, ...(seccomp ? { seccomp } : {}), ...(seccompLoader ? { seccompLoader } : {}), ...(masks ? { masks } : {}) },
  };
}

/** The node's bind masks: its empty directory and the masked paths this host has, or undefined (tmpfs masks) when either is missing. */
async function maskSettings(stateDir: string): Promise<MaskSettings | undefined> {
  // For A/B runs of the bench: runc's tmpfs masks for every masked directory.
  if (process.env.STASIS_BIND_MASKS === '0') return undefined;
  const paths = await bindMaskedHere();
  const emptyDir = paths.length > 0 ? await ensureEmptyDir(stateDir) : undefined;
  return emptyDir ? { emptyDir, paths } : undefined;
}

/** The lock file of task `id` in `namespace`. */
export function taskLockFile(ctx: RuntimeContext, namespace: string, id: string): string {
  return path.join(locksDir(ctx.paths.stateDir), `${namespace}+${id}.lock`);
}

/** Where the id-shifted copies of lower rootfs directories are cached. */
export function shiftedRootfsDir(ctx: RuntimeContext): string {
  return path.join(ctx.paths.rootfsDir, 'shifted');
}
