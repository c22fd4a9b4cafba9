import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { repoRoot, workerFile } from '../../../src/pool/pool.js';

// Node 20.19+ aborts the whole process when a worker thread is terminated inside a synchronous
// require() of an ES module graph, which is how Piscina loads an ES module entry. The pool's entry is
// CommonJS and imports the worker: a pool destroyed while its threads load must leave the process alive.
const SCRIPT = `
import { Piscina } from 'piscina';
const [file, rounds] = process.argv.slice(1);
for (let i = 0; i < Number(rounds); i++) {
  const pool = new Piscina({ filename: file, minThreads: 2, maxThreads: 2, atomics: 'disabled', idleTimeout: Infinity });
  const run = pool.run({ kind: 'no-such-kind', requestId: 'r' }).catch(() => undefined);
  // Destroyed at a point swept across the threads' load (~150–350 ms on a 2-core VM).
  await new Promise((r) => setTimeout(r, 150 + ((i * 7) % 200)));
  await pool.destroy();
  await run;
}
console.log('alive');
`;

describe('task pool threads', () => {
  it('a pool destroyed while its threads still load their entry leaves the process alive', async () => {
    const r = await execa(process.execPath, ['--input-type=module', '-e', SCRIPT, workerFile(), '40'], {
      cwd: repoRoot(),
      reject: false,
    });
    expect(r.stderr).not.toContain('FATAL ERROR');
    expect({ exitCode: r.exitCode, stdout: r.stdout.trim() }).toEqual({ exitCode: 0, stdout: 'alive' });
  }, 120_000);
});
