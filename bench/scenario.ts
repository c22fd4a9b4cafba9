/** What every bench scenario gets and gives: one file per scenario, run in order by main.ts. */
import type { Progress, ScenarioResult } from './report.js';

/** Shared settings and helpers of one bench run. */
export interface BenchContext {
  /** Sequential runs per latency measurement. */
  runs: number;
  /** Containers/jobs per throughput measurement. */
  throughputRuns: number;
  /** Parallelism of the throughput measurement (2, as the peer figures). */
  parallel: number;
  /** Scratch directory of this run (removed at the end). */
  workDir: string;
  /** State directory of stasis for this run (embedded Redis, tasks, runc root). */
  stateDir: string;
  /** A tmpfs for the raw side's runc roots and conmon files, as runc's own /run/runc (stasis' run dirs are tmpfs too). */
  runDir: string;
  /** A busybox rootfs (read-only lower layer). */
  rootfs: string;
  runc: string;
  progress: Progress;
  /** Registers a cleanup step (run in reverse order, even after a failure or Ctrl-C). */
  defer(fn: () => Promise<void>): void;
}

/** One bench scenario. */
export interface Scenario {
  name: string;
  /** One result, or several (a scenario measuring both sides of its groups). */
  run(ctx: BenchContext): Promise<ScenarioResult | ScenarioResult[]>;
}
