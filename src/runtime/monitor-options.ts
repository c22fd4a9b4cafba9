/** The per-task monitor's (conmon's) options for a task of this node: one place for the shared part. */
import type { LaunchOptions } from '../monitor/conmon-args.js';
import { sealedBinary } from '../runc/sealed-binary.js';
import type { RuntimeContext } from './context.js';
import { criuEnv } from './criu-config.js';

/** What a launch adds to the node's binaries and runc root. */
export type MonitorTarget = Pick<LaunchOptions, 'containerId' | 'bundle' | 'runDir'> & Partial<Omit<LaunchOptions, 'conmon' | 'runc' | 'runcRoot'>>;

/** conmon's options: this node's conmon, runc (its sealed copy: runc/sealed-binary.ts), runc root and CRIU settings, then the target's own (undefined ones left out). */
export function monitorOptions(ctx: RuntimeContext, t: MonitorTarget): LaunchOptions {
  const own = Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)) as MonitorTarget;
  return { conmon: ctx.config.conmon, runc: sealedBinary(ctx.config.runc, ctx.paths.stateDir), runcRoot: ctx.paths.runcRoot, env: criuEnv(ctx.paths.stateDir), ...own };
}
