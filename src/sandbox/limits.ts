/** CPU limits as the kernel's CFS takes them. */

/** CFS quota for `cpus` CPUs at the given period (µs), at least 1000 µs as the kernel requires. */
export function cpuQuota(cpus: number, period = 100_000): number {
  return Math.max(1000, Math.round(cpus * period));
}
