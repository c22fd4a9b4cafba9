/** A `stasis serve` child process for a bench scenario: started, awaited until it consumes, stopped by the scenario's cleanup. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { execaNode, type ResultPromise } from 'execa';
import type { BenchContext } from './scenario.js';

const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');

/**
 * Starts `stasis serve ARGS` (runc from the bench, no REDIS_URL: the embedded Redis of its state dir,
 * plus `env`), resolves once `consumers()` counts it, and defers its stop (SIGTERM, SIGKILL after 30 s).
 */
export async function startServeChild(ctx: BenchContext, args: string[], env: Record<string, string>, consumers: () => Promise<number>): Promise<{ child: ResultPromise }> {
  const child = execaNode(CLI, ['serve', ...args, '--log-level', 'warn'], {
    env: { STASIS_RUNC: ctx.runc, REDIS_URL: '', ...env },
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
    reject: false,
  });
  ctx.defer(async () => {
    child.kill('SIGTERM');
    await Promise.race([child, sleep(30_000)]);
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const deadline = Date.now() + 60_000;
  while ((await consumers()) === 0) {
    if (child.exitCode !== null || Date.now() > deadline) {
      const r = await Promise.race([child, sleep(100).then(() => null)]);
      throw new Error(`stasis serve did not come up: ${r?.stderr ?? 'timeout'}`);
    }
    await sleep(50);
  }
  // Wrapped: the child is a thenable, and an async function returning it would wait for its exit.
  return { child };
}
