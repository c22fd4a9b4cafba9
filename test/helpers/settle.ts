/** Waiting without a clock: for tests that use fake timers or must not depend on wall-clock time. */

/** Lets every callback already queued run (promise jobs, a port's messages, file I/O completions). */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setImmediate(r));
}

/** True once `p` has settled, after letting queued callbacks run (never waits for `p` itself). */
export async function isSettled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  await settle();
  return done;
}
