/**
 * `npm run bench`: raw runc against stasis jobs, side by side, in one run. A benchmark, not a test.
 * Flags: --runs N (sequential runs per latency figure, default 50), --quick (10 runs),
 * --runner child|inprocess (where the stasis runner node runs, default child), --out FILE,
 * --only TEXT[,TEXT…] (run only the scenarios whose name contains one TEXT, e.g. `checkpoint`, `raw runc,stasis job`).
 * Scenarios live one per file; add one by appending it to the `scenarios` list in main().
 */
import { removeEmptyCgroupDir } from '../src/runtime/cgroups.js';
import { runDirOf } from '../src/config/load.js';
import { mountRunDir } from '../src/runtime/run-dir.js';
import { useSpawnHelper } from '../src/os/command.js';
import fs from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { ensureBusyboxRootfs } from '../src/sandbox/busybox.js';
import { Progress, formatComparison, writeReport, type ScenarioResult } from './report.js';
import type { BenchContext, Scenario } from './scenario.js';
import { trueContainer } from './true-container.js';
import type { RunnerMode } from './stasis-jobs.js';
import { checkpointRestore } from './checkpoint.js';
import { migration } from './migration.js';
import { queueMigration } from './queue-migration.js';
import { imagePull } from './image-pull.js';
import { memory } from './memory.js';
import { sweepStateDir } from './stasis-checkpoint.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' },
      quick: { type: 'boolean' },
      runner: { type: 'string' },
      out: { type: 'string' },
      only: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write('Usage: npm run bench -- [--runs N] [--quick] [--runner child|inprocess] [--out FILE] [--only TEXT]\n');
    return 0;
  }
  const runs = values.runs !== undefined ? Number(values.runs) : values.quick ? 10 : 50;
  if (!Number.isSafeInteger(runs) || runs < 1) throw new Error(`Expected --runs to be a whole number above 0, got ${values.runs}`);
  const mode = (values.runner ?? 'child') as RunnerMode;
  if (mode !== 'child' && mode !== 'inprocess') throw new Error(`Expected --runner to be child or inprocess, got ${mode}`);
  if (process.getuid?.() !== 0) throw new Error('the bench runs containers: run it as root');
  const out = path.resolve(values.out ?? path.join(REPO, '.bench', 'report.json'));
  await fs.mkdir(path.join(REPO, '.bench'), { recursive: true });
  const workDir = await fs.mkdtemp(path.join(REPO, '.bench', 'run-'));
  await fs.chmod(workDir, 0o711); // under a user namespace runc reaches the bundles as an unprivileged user
  const run = await mountRunDir(workDir);
  if (run.place === 'disk') process.stderr.write(`note: the raw side's runc roots stay on disk: ${run.why}\n`);
  const cleanups: (() => Promise<void>)[] = [];
  const progress = new Progress();
  const ctx: BenchContext = {
    runs,
    throughputRuns: Math.max(4, runs),
    parallel: 2,
    workDir,
    stateDir: path.join(workDir, 'state'),
    runDir: runDirOf(workDir),
    rootfs: await ensureBusyboxRootfs(path.join(REPO, '.bench', 'rootfs', 'busybox')),
    runc: process.env.STASIS_RUNC ?? '/usr/sbin/runc',
    progress,
    defer: (fn) => cleanups.push(fn),
  };
  const cleanup = async () => {
    while (cleanups.length) await cleanups.pop()!().catch((e: unknown) => progress.note(`cleanup: ${String(e)}`));
  };
  // After the scenarios' own cleanups: whatever is still mounted under the run's dir (the raw side's
  // tmpfs, a node's run dir), deepest first, the dir, and the raw containers' and the tasks' parent
  // cgroups (every hierarchy; only where empty). A failed step is told, not thrown: it would hide the
  // error a scenario failed with.
  const sweep = async () => {
    await cleanup();
    await sweepStateDir(workDir, ctx.runc).catch((e: unknown) => progress.note(`cleanup: ${String(e)}`));
    await fs.rm(workDir, { recursive: true, force: true }).catch((e: unknown) => progress.note(`cleanup: ${String(e)}`));
    for (const name of ['stasis-bench', 'stasis']) await removeEmptyCgroupDir(name);
  };
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    progress.note('\ninterrupted: cleaning up (again to exit at once)');
    void sweep().finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  // The runtime-level rows run TaskManager in this process: fork its commands and conmons the way a
  // node's worker threads do, through a spawn helper (STASIS_SPAWN_HELPER=0: from this process).
  useSpawnHelper();
  const scenarios: Scenario[] = [trueContainer(mode), checkpointRestore({ quick: !!values.quick }), migration({ quick: !!values.quick }), queueMigration({ quick: !!values.quick }), imagePull, memory].filter(
    (s) => values.only === undefined || values.only.split(',').some((o) => s.name.includes(o)),
  );
  const results: ScenarioResult[] = [];
  const startedAt = new Date().toISOString();
  progress.note(`stasis bench: ${runs} sequential runs and ${ctx.throughputRuns} at ${ctx.parallel} in parallel per scenario`);
  try {
    for (const s of scenarios) {
      progress.note(`> ${s.name}`);
      results.push(...[await s.run(ctx)].flat());
      await cleanup();
    }
  } finally {
    await sweep();
  }
  const report = await writeReport(out, { startedAt, finishedAt: new Date().toISOString(), options: { runs, runner: mode, parallel: ctx.parallel }, results });
  process.stdout.write(`\n${formatComparison(report.results)}`);
  for (const r of report.results) for (const n of r.notes) process.stdout.write(`  ${r.scenario}: ${n}\n`);
  process.stdout.write(`\nreport: ${path.relative(process.cwd(), out) || out}\n`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
