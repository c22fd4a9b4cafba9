/** Resources (seed `Update`) → OCI `linux.resources`, validated. Pure. */
import { errors } from '../errors.js';
import { cpuQuota } from '../sandbox/limits.js';
import { CPU_PERIOD } from '../sandbox/spec.js';
import type { Limits } from '../sandbox/types.js';
import type { Resources } from './task.js';

function positiveInt(v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) {
    throw errors.invalidArgument(`Expected \`${field}\` to be a positive integer, got \`${JSON.stringify(v)}\``, { field });
  }
  return v;
}

/** Validates `r`; throws ERR_INVALID_ARGUMENT naming the first bad field. */
export function validateResources(r: Resources): void {
  if (typeof r !== 'object' || r === null) {
    throw errors.invalidArgument(`Expected \`resources\` to be an object, got \`${JSON.stringify(r)}\``, { field: 'resources' });
  }
  if (r.memoryBytes !== undefined) positiveInt(r.memoryBytes, 'resources.memoryBytes');
  if (r.memorySwapBytes !== undefined) {
    positiveInt(r.memorySwapBytes, 'resources.memorySwapBytes');
    if (r.memoryBytes !== undefined && r.memorySwapBytes < r.memoryBytes) {
      throw errors.invalidArgument(
        `Expected \`resources.memorySwapBytes\` (memory + swap) to be at least memoryBytes ${r.memoryBytes}, got ${r.memorySwapBytes}`,
        { field: 'resources.memorySwapBytes' },
      );
    }
  }
  if (r.cpus !== undefined && (typeof r.cpus !== 'number' || !Number.isFinite(r.cpus) || r.cpus <= 0 || r.cpus > 1024)) {
    throw errors.invalidArgument(`Expected \`resources.cpus\` to be a number of CPUs above 0 and at most 1024, got \`${JSON.stringify(r.cpus)}\``, {
      field: 'resources.cpus',
    });
  }
  if (r.cpuShares !== undefined) positiveInt(r.cpuShares, 'resources.cpuShares');
  if (r.pids !== undefined) positiveInt(r.pids, 'resources.pids');
}

/** The OCI `linux.resources` object `runc update` takes for `r` (only the fields given). */
export function toOciResources(r: Resources): Record<string, unknown> {
  validateResources(r);
  const out: Record<string, unknown> = {};
  if (r.memoryBytes !== undefined || r.memorySwapBytes !== undefined) {
    const memory: Record<string, number> = {};
    if (r.memoryBytes !== undefined) memory.limit = r.memoryBytes;
    const swap = r.memorySwapBytes ?? r.memoryBytes;
    if (swap !== undefined) memory.swap = swap;
    out.memory = memory;
  }
  if (r.cpus !== undefined || r.cpuShares !== undefined) {
    const cpu: Record<string, number> = {};
    if (r.cpus !== undefined) {
      cpu.quota = cpuQuota(r.cpus, CPU_PERIOD);
      cpu.period = CPU_PERIOD;
    }
    if (r.cpuShares !== undefined) cpu.shares = r.cpuShares;
    out.cpu = cpu;
  }
  if (r.pids !== undefined) out.pids = { limit: r.pids };
  return out;
}

/** True when `r` changes nothing. */
export function isEmptyResources(r: Resources): boolean {
  return Object.values(r).every((v) => v === undefined);
}

/** The task's limits after applying `r`. */
export function mergeLimits(l: Limits, r: Resources): Limits {
  return {
    ...l,
    ...(r.memoryBytes !== undefined ? { memoryBytes: r.memoryBytes } : {}),
    ...(r.cpus !== undefined ? { cpus: r.cpus } : {}),
    ...(r.pids !== undefined ? { pids: r.pids } : {}),
  };
}

/** An OCI spec's `linux.resources` with the update `oci` merged in (deep for memory/cpu/pids). */
export function mergeOciResources(current: Record<string, unknown>, oci: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...current };
  for (const [k, v] of Object.entries(oci)) {
    const prev = current[k];
    out[k] = prev && typeof prev === 'object' && !Array.isArray(prev) ? { ...(prev as object), ...(v as object) } : v;
  }
  return out;
}
