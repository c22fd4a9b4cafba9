/** Timing blocks of runs: on parallel lanes, and the steady rate of a block. */

/** Latencies and completion times (performance.now()) of `n` runs of `one` on `parallel` lanes at once. */
export async function lanes(n: number, parallel: number, one: (lane: number) => Promise<number>): Promise<{ latencies: number[]; done: number[] }> {
  const latencies: number[] = [];
  const done: number[] = [];
  let started = 0;
  await Promise.all(
    Array.from({ length: parallel }, async (_, lane) => {
      while (started < n) {
        started++;
        latencies.push(await one(lane));
        done.push(performance.now());
      }
    }),
  );
  return { latencies, done };
}

/** Jobs and ms of a block's steady part: the completions after the first `skip`, and the time since the `skip`-th. */
export function steady(done: number[], skip: number): { jobs: number; ms: number } {
  const s = [...done].sort((a, b) => a - b);
  if (s.length < 2) return { jobs: 0, ms: 0 };
  const k = Math.min(skip, s.length - 1);
  return { jobs: s.length - k, ms: s[s.length - 1]! - s[k - 1]! };
}
