/** Runs the BUILT stasis CLI (dist/src/cli/main.js) as separate processes over a private state dir. */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

/** Path of the built CLI entry (`npm run build` creates it). */
export const CLI = path.resolve('dist/src/cli/main.js');

/** What one CLI invocation produced. */
export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A CLI bound to one temporary state directory. */
export interface CliHarness {
  stateDir: string;
  run(args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult>;
  /** Runs and parses stdout as JSON; fails with the CLI's stderr when it did not exit 0. */
  json<T = unknown>(args: string[]): Promise<T>;
}

/** A unique id for this test run. */
export function uid(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** Creates a private state dir and a runner of the built CLI on it. */
export async function openCli(name: string): Promise<CliHarness> {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const stateDir = await fsp.mkdtemp(path.join(os.tmpdir(), `stasis-cli-${name}-`));
  const run = async (args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> => {
    const r = await execa('node', [CLI, '--state-dir', stateDir, ...args], { reject: false, env, timeout: 60_000, stripFinalNewline: false });
    return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
  };
  return {
    stateDir,
    run,
    async json<T>(args: string[]): Promise<T> {
      const r = await run([...args, '--json']);
      if (r.exitCode !== 0) throw new Error(`stasis ${args.join(' ')} exited ${r.exitCode}: ${r.stderr}`);
      return JSON.parse(r.stdout) as T;
    },
  };
}

/** Force-deletes every task the CLI still lists, in every namespace, then removes the state dir. */
export async function closeCli(h: CliHarness): Promise<void> {
  const namespaces = await fsp.readdir(path.join(h.stateDir, 'run', 'tasks')).catch(() => [] as string[]);
  for (const ns of namespaces) {
    const list = await h.run(['task', 'list', '-q', '-n', ns]);
    for (const id of list.stdout.split('\n').filter(Boolean)) await h.run(['task', 'delete', '--force', '-n', ns, id]);
  }
  await fsp.rm(h.stateDir, { recursive: true, force: true }).catch((e: unknown) => {
    console.warn(`could not remove ${h.stateDir}: ${String(e)}`);
  });
}

/** Polls `f` until it returns true (or throws after `ms` naming `what`). */
export async function until(f: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await f()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** The numbers of the `count N` lines in some output. */
export function counts(text: string): number[] {
  return text
    .split('\n')
    .map((l) => /count (\d+)$/.exec(l.trim())?.[1])
    .filter((x): x is string => x !== undefined)
    .map(Number);
}
