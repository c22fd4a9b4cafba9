/** Promise.all that waits for every step before it rejects, so an undo never runs beside a step still mounting. */

/** Resolves like Promise.all; on a failure, waits for the other steps to end, then rejects with the first error. */
export async function allSettledOrThrow<T extends readonly unknown[]>(steps: readonly [...{ [K in keyof T]: Promise<T[K]> }]): Promise<T> {
  const results = await Promise.allSettled(steps);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
