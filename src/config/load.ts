import path from 'node:path';
import { RuntimeConfigSchema, type RuntimeConfig, type RuntimePaths } from './schema.js';
import { errors } from '../errors.js';

/** Reads the runtime config from explicit options, then STASIS_* environment variables, then defaults. */
export function loadRuntimeConfig(opts: Partial<RuntimeConfig> = {}, env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const raw = {
    stateDir: opts.stateDir ?? env.STASIS_STATE_DIR,
    runc: opts.runc ?? env.STASIS_RUNC,
    conmon: opts.conmon ?? env.STASIS_CONMON,
    criu: opts.criu ?? env.STASIS_CRIU,
  };
  const parsed = RuntimeConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw errors.invalidArgument(`invalid runtime config \`${i.path.join('.')}\`: ${i.message}`, { field: i.path.join('.') });
  }
  return { ...parsed.data, stateDir: path.resolve(parsed.data.stateDir) };
}

/** The on-disk layout under a state directory. */
export function runtimePaths(cfg: Pick<RuntimeConfig, 'stateDir'>): RuntimePaths {
  return {
    stateDir: cfg.stateDir,
    runcRoot: path.join(cfg.stateDir, 'runc'),
    tasksDir: path.join(cfg.stateDir, 'tasks'),
    rootfsDir: path.join(cfg.stateDir, 'rootfs'),
  };
}
