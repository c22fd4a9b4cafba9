import path from 'node:path';
import { RuntimeConfigSchema, type IdMapping, type RuntimeConfig, type RuntimePaths } from './schema.js';
import { DEFAULT_USERNS } from './schema.js';
import { errors } from '../errors.js';

/** Parses STASIS_USERNS / --userns: 'private' (the default mapping), 'host' (none) or 'HOSTID:SIZE'. */
export function parseUsernsSetting(v: string, field = 'STASIS_USERNS'): IdMapping | null {
  if (v === 'private') return { ...DEFAULT_USERNS };
  if (v === 'host') return null;
  const m = /^(\d+):(\d+)$/.exec(v);
  if (!m) throw errors.invalidArgument(`Expected \`${field}\` to be private, host or HOSTID:SIZE, got \`${v}\``, { field });
  return { hostId: Number(m[1]), size: Number(m[2]) };
}

/** Reads the runtime config from explicit options, then STASIS_* environment variables, then defaults. */
export function loadRuntimeConfig(opts: Partial<RuntimeConfig> = {}, env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const raw = {
    stateDir: opts.stateDir ?? env.STASIS_STATE_DIR,
    runc: opts.runc ?? env.STASIS_RUNC,
    conmon: opts.conmon ?? env.STASIS_CONMON,
    criu: opts.criu ?? env.STASIS_CRIU,
    init: opts.init ?? env.STASIS_INIT,
    busybox: opts.busybox ?? env.STASIS_BUSYBOX,
    userns: opts.userns !== undefined ? opts.userns : env.STASIS_USERNS ? parseUsernsSetting(env.STASIS_USERNS) : undefined,
    seccomp: opts.seccomp ?? (env.STASIS_SECCOMP || undefined),
    warmPool: opts.warmPool ?? (env.STASIS_WARM_POOL ? Number(env.STASIS_WARM_POOL) : undefined),
    runTmpfs: opts.runTmpfs ?? (env.STASIS_RUN_TMPFS ? env.STASIS_RUN_TMPFS !== '0' : undefined),
  };
  const parsed = RuntimeConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw errors.invalidArgument(`invalid runtime config \`${i.path.join('.')}\`: ${i.message}`, { field: i.path.join('.') });
  }
  return { ...parsed.data, stateDir: path.resolve(parsed.data.stateDir) };
}

/** The run dir of a state directory: the part that lives only while tasks do (runtime/run-dir.ts). */
export function runDirOf(stateDir: string): string {
  return path.join(stateDir, 'run');
}

/** The on-disk layout under a state directory. */
export function runtimePaths(cfg: Pick<RuntimeConfig, 'stateDir'>): RuntimePaths {
  const runDir = runDirOf(cfg.stateDir);
  return {
    stateDir: cfg.stateDir,
    runDir,
    runcRoot: path.join(runDir, 'runc'),
    tasksDir: path.join(runDir, 'tasks'),
    rootfsDir: path.join(cfg.stateDir, 'rootfs'),
  };
}
