/** Bench statistics, progress, the side-by-side table and the JSON report. */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** One measured figure of a scenario. */
export interface Measurement {
  /** Stable id shared by the baseline and the stasis scenario of a group ('latency.p50'). */
  metric: string;
  label: string;
  unit: 'ms' | '/s' | 'MiB' | '%';
  value: number;
  /** Whether lower (latency) or higher (throughput) is better. */
  better: 'lower' | 'higher';
}

/** What one scenario measured. */
export interface ScenarioResult {
  scenario: string;
  /** Rows of one group are compared side by side ('true container'). */
  group: string;
  /** 'baseline' is the raw tool (runc, CRIU); 'stasis' is the same work through stasis. */
  kind: 'baseline' | 'stasis';
  measurements: Measurement[];
  /** Raw samples by name (ms), kept in the JSON report. */
  samples: Record<string, number[]>;
  notes: string[];
}

/** Percentile (nearest rank) of `xs` (not necessarily sorted); NaN for an empty list. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length - 1, Math.max(0, rank - 1))]!;
}

/** Latency measurements (p50, p95, mean) of a list of samples in ms. */
export function latencyMeasurements(samples: number[], what: string): Measurement[] {
  const mean = samples.reduce((a, b) => a + b, 0) / (samples.length || 1);
  return [
    { metric: 'latency.p50', label: `${what} latency p50`, unit: 'ms', value: percentile(samples, 50), better: 'lower' },
    { metric: 'latency.p95', label: `${what} latency p95`, unit: 'ms', value: percentile(samples, 95), better: 'lower' },
    { metric: 'latency.mean', label: `${what} latency mean`, unit: 'ms', value: mean, better: 'lower' },
  ];
}

/** Progress on stderr: one rewritten line on a terminal, a line per 10 % otherwise. */
export class Progress {
  private lastPct = -1;
  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {}

  /** Reports `done` of `total` steps of `what`. */
  tick(what: string, done: number, total: number): void {
    const pct = Math.floor((done / total) * 100);
    if (this.out.isTTY) {
      this.out.write(`\r\x1b[K  ${what}: ${done}/${total}`);
      if (done === total) this.out.write('\n');
    } else if (done === total || Math.floor(pct / 10) > Math.floor(this.lastPct / 10)) {
      this.out.write(`  ${what}: ${done}/${total}\n`);
    }
    this.lastPct = done === total ? -1 : pct;
  }

  /** A one-off status line. */
  note(msg: string): void {
    this.out.write(`${msg}\n`);
  }
}

function fmt(v: number | undefined, unit: string): string {
  if (v === undefined || !Number.isFinite(v)) return '-';
  return `${v.toFixed(unit === 'MiB' && v < 10 ? 2 : 1)} ${unit}`;
}

/** A performance goal of one row (issue "Speed"): a ratio bound, a bound on what stasis adds in ms, or a bound on stasis' own figure. */
export type Goal = { maxRatio: number } | { minRatio: number } | { maxExtraMs: number } | { maxValue: number; unit: string };

/** The goals by group (a pattern) and metric; rows without one print '-'. */
const GOALS: { group: RegExp; metric: string; goal: Goal }[] = [
  { group: /^true container$/, metric: 'latency.p50', goal: { maxRatio: 1.0 } },
  { group: /^true container$/, metric: 'latency.p95', goal: { maxRatio: 1.3 } },
  { group: /^true container$/, metric: 'throughput', goal: { minRatio: 0.8 } },
  { group: /^true job from a cached image$/, metric: 'latency.p50', goal: { maxRatio: 1.1 } },
  { group: /^image pull$/, metric: 'image.pull.p50', goal: { maxRatio: 1.1 } },
  { group: /^checkpoint /, metric: 'checkpoint', goal: { maxRatio: 1.05 } },
  { group: /^checkpoint /, metric: 'restore', goal: { maxRatio: 1.05 } },
  { group: /^checkpoint /, metric: 'checkpoint.outside', goal: { maxExtraMs: 5 } },
  { group: /^checkpoint /, metric: 'restore.outside', goal: { maxExtraMs: 5 } },
  { group: /^migration \(/, metric: 'downtime', goal: { maxRatio: 1.2 } },
  { group: /^migration via the queue/, metric: 'downtime', goal: { maxRatio: 1.3 } },
  { group: /^migration via the queue/, metric: 'downtime.max', goal: { maxRatio: 1.5 } },
  { group: /^memory per running task$/, metric: 'memory.outside', goal: { maxValue: 2, unit: 'MiB' } },
];

/** The goal of a row, if it has one. */
export function goalOf(group: string, metric: string): Goal | undefined {
  return GOALS.find((g) => g.group.test(group) && g.metric === metric)?.goal;
}

/** `≤ 1.05x ✓`: the goal and whether `stasis` against `raw` meets it; '-' without a goal or a figure. */
export function formatGoal(goal: Goal | undefined, raw: number | undefined, stasis: number | undefined): string {
  if (!goal) return '-';
  if ('maxValue' in goal) {
    const text = `≤ ${goal.maxValue} ${goal.unit}`;
    return stasis !== undefined && Number.isFinite(stasis) ? `${text} ${stasis <= goal.maxValue ? 'met' : 'NOT met'}` : text;
  }
  const known = raw !== undefined && stasis !== undefined && Number.isFinite(raw) && Number.isFinite(stasis) && raw > 0;
  let text: string;
  let met: boolean;
  if ('maxRatio' in goal) [text, met] = [`≤ ${goal.maxRatio.toFixed(2)}x`, known && stasis! / raw! <= goal.maxRatio];
  else if ('minRatio' in goal) [text, met] = [`≥ ${goal.minRatio.toFixed(2)}x`, known && stasis! / raw! >= goal.minRatio];
  else [text, met] = [`≤ raw + ${goal.maxExtraMs} ms`, known && stasis! - raw! <= goal.maxExtraMs];
  return known ? `${text} ${met ? 'met' : 'NOT met'}` : text;
}

/** The side-by-side table: one row per metric of each group, baseline | stasis | stasis/baseline | goal. */
export function formatComparison(results: ScenarioResult[]): string {
  const rows: string[][] = [];
  const groups = [...new Set(results.map((r) => r.group))];
  for (const g of groups) {
    const base = results.find((r) => r.group === g && r.kind === 'baseline');
    const subj = results.find((r) => r.group === g && r.kind === 'stasis');
    const metrics = [...(base?.measurements ?? []), ...(subj?.measurements ?? [])]
      .map((m) => m.metric)
      .filter((m, i, a) => a.indexOf(m) === i);
    for (const metric of metrics) {
      const b = base?.measurements.find((m) => m.metric === metric);
      const s = subj?.measurements.find((m) => m.metric === metric);
      const any = (b ?? s)!;
      const ratio = b && s && b.value > 0 ? `${(s.value / b.value).toFixed(2)}x` : '-';
      rows.push([g, any.label.replace(/^`[^`]*` /, ''), fmt(b?.value, any.unit), fmt(s?.value, any.unit), ratio, formatGoal(goalOf(g, metric), b?.value, s?.value)]);
    }
  }
  const header = ['group', 'metric', 'raw', 'stasis', 'stasis/raw', 'goal'];
  const all = [header, ...rows];
  const w = header.map((_, i) => Math.max(...all.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i >= 2 && i <= 4 ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  ');
  return [line(header), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n') + '\n';
}

/** The JSON report written after a run. */
export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  host: { hostname: string; cpus: number; kernel: string; node: string };
  options: Record<string, unknown>;
  results: ScenarioResult[];
  /** stasis/raw per group and metric. */
  ratios: Record<string, Record<string, number>>;
}

/** stasis/baseline per group and metric. */
export function ratios(results: ScenarioResult[]): BenchReport['ratios'] {
  const out: BenchReport['ratios'] = {};
  for (const s of results.filter((r) => r.kind === 'stasis')) {
    const b = results.find((r) => r.group === s.group && r.kind === 'baseline');
    if (!b) continue;
    for (const m of s.measurements) {
      const bm = b.measurements.find((x) => x.metric === m.metric);
      if (bm && bm.value > 0) (out[s.group] ??= {})[m.metric] = Number((m.value / bm.value).toFixed(3));
    }
  }
  return out;
}

/** Writes the report as JSON to `file` (directories created). */
export async function writeReport(file: string, r: Omit<BenchReport, 'host' | 'ratios'>): Promise<BenchReport> {
  const report: BenchReport = {
    ...r,
    host: { hostname: os.hostname(), cpus: os.cpus().length, kernel: os.release(), node: process.version },
    ratios: ratios(r.results),
  };
  await fs.mkdir(path.dirname(file), { recursive: true });
  await fs.writeFile(file, `${JSON.stringify(report, null, 2)}\n`);
  return report;
}
