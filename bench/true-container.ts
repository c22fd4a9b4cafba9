/**
 * The `true` container group: raw `runc run` (raw-runc.ts) against the same `true` as a stasis job
 * (stasis-jobs.ts), measured in alternating blocks so both sides see the same minutes of a machine
 * whose speed drifts. Every block starts with the node idle (settled: last task deleted, prepared
 * sandboxes made), so neither side pays for the other's background work; the order flips every round.
 * A sequential block starts with a lead-in run that is not counted (it alone would find the node idle).
 * Throughput is the steady rate of each block: completions after the first `skip` over the time they
 * took, on both sides (a stasis block starts with its prepared sandboxes made while the node idled).
 * Then the stasis jobs from an OCI image beside the directory rootfs, interleaved job by job.
 */
import { latencyMeasurements, percentile, type Measurement, type ScenarioResult } from './report.js';
import type { BenchContext, Scenario } from './scenario.js';
import { openRawRunc } from './raw-runc.js';
import { addCounts, hitRate, openStasisJobs, type Counts, type RunnerMode } from './stasis-jobs.js';
import { lanes, steady } from './blocks.js';

const ZERO: Counts = { hit: 0, waited: 0, miss: 0 };

/** Builds the scenario (its name matches --only `raw runc run` and `stasis job`). */
export function trueContainer(mode: RunnerMode): Scenario {
  return {
    name: 'raw runc run and stasis job end to end, interleaved',
    async run(ctx: BenchContext): Promise<ScenarioResult[]> {
      const raw = await openRawRunc(ctx);
      const st = await openStasisJobs(ctx, mode);
      const rounds = Math.max(1, Math.min(5, Math.floor(ctx.runs / 10)));
      const seqPer = Math.ceil(ctx.runs / rounds);
      const parPer = Math.max(20, Math.ceil(ctx.throughputRuns / 2));
      const skip = Math.max(1, st.warm);
      const seq = { raw: [] as number[], stasis: [] as number[] };
      const par = { raw: [] as number[], stasis: [] as number[] };
      const rate = { raw: { jobs: 0, ms: 0 }, stasis: { jobs: 0, ms: 0 } };
      let seqCounts = ZERO;
      let parCounts = ZERO;
      let unsettled = 0;
      let blocks = 0;
      const total = rounds * 4;
      const block = async (side: 'raw' | 'stasis', kind: 'seq' | 'par'): Promise<void> => {
        if (!(await st.settle())) unsettled++;
        // A sequential block's lead-in, not counted: it alone would find the node idle, unlike the jobs that follow one.
        if (kind === 'seq') await (side === 'raw' ? raw.run(0) : st.one());
        const before = side === 'stasis' ? await st.counts() : ZERO;
        if (kind === 'seq') {
          for (let i = 0; i < seqPer && seq[side].length < ctx.runs; i++) seq[side].push(side === 'raw' ? await raw.run(0) : await st.one({ breakdown: true }));
        } else {
          const r = await lanes(parPer, ctx.parallel, side === 'raw' ? raw.run : () => st.one());
          par[side].push(...r.latencies);
          const s = steady(r.done, skip);
          rate[side] = { jobs: rate[side].jobs + s.jobs, ms: rate[side].ms + s.ms };
        }
        if (side === 'stasis') {
          const after = await st.counts();
          if (kind === 'seq') seqCounts = addCounts(seqCounts, before, after);
          else parCounts = addCounts(parCounts, before, after);
        }
        ctx.progress.tick('true container, raw runc and stasis in alternating blocks', ++blocks, total);
      };
      for (let r = 0; r < rounds; r++) {
        const order: ('raw' | 'stasis')[] = r % 2 === 0 ? ['raw', 'stasis'] : ['stasis', 'raw'];
        for (const kind of ['seq', 'par'] as const) for (const side of order) await block(side, kind);
      }

      // Sequential again, from the image (pulled and unpacked by the warm-up), beside the same
      // sequential jobs on the directory rootfs, interleaved so both see the same machine.
      const dirSeq: number[] = [];
      const imgSeq: number[] = [];
      if (!(await st.settle())) unsettled++;
      await st.one();
      await st.one({ image: true });
      for (let i = 0; i < ctx.runs; i++) {
        dirSeq.push(await st.one());
        imgSeq.push(await st.one({ image: true }));
        ctx.progress.tick('stasis jobs, directory rootfs and image, interleaved', i + 1, ctx.runs);
      }

      const seqHits = hitRate(ZERO, seqCounts);
      const parHits = hitRate(ZERO, parCounts);
      if (st.bad.length === st.total()) throw new Error(`no bench job exited 0: ${st.bad.join(', ')}`);
      const badNote = st.bad.length
        ? [`${st.bad.length} of ${st.total()} jobs did not exit 0 (reason/status: ${[...new Set(st.bad)].map((b) => `${b} ×${st.bad.filter((x) => x === b).length}`).join(', ')})`]
        : [];
      if (badNote.length) ctx.progress.note(`  warning: ${badNote[0]}`);
      const how = `${rounds} rounds, each: ${seqPer} sequential then ${parPer} at ${ctx.parallel} in parallel per side, the side going first alternating; every block starts with the node idle (settled${unsettled ? `, not within 5 s before ${unsettled} of ${total + 1} blocks` : ''}) and a sequential one with a lead-in run not counted; throughput = completions after the first ${skip} of each block / the time they took`;
      const throughput = (side: 'raw' | 'stasis'): Measurement => ({
        metric: 'throughput',
        label: `throughput, ${ctx.parallel} in parallel`,
        unit: '/s',
        value: (1000 * rate[side].jobs) / rate[side].ms,
        better: 'higher',
      });
      return [
        {
          scenario: 'raw runc run',
          group: 'true container',
          kind: 'baseline',
          measurements: [...latencyMeasurements(seq.raw, '`true`'), throughput('raw')],
          samples: { sequential: seq.raw, parallel: par.raw },
          notes: [raw.note, how],
        },
        {
          scenario: 'stasis job end to end',
          group: 'true container',
          kind: 'stasis',
          measurements: [
            ...latencyMeasurements(seq.stasis, '`true`'),
            throughput('stasis'),
            ...breakdown(st.phases),
            { metric: 'warm.sequential', label: `prepared-sandbox hit rate, sequential (${seqHits.text})`, unit: '%', value: seqHits.pct, better: 'higher' },
            { metric: 'warm.parallel', label: `prepared-sandbox hit rate, ${ctx.parallel} in parallel (${parHits.text})`, unit: '%', value: parHits.pct, better: 'higher' },
          ],
          samples: { sequential: seq.stasis, parallel: par.stasis, ...Object.fromEntries(Object.entries(st.phases).map(([k, v]) => [`phase.${k}`, v])) },
          notes: [
            `queue.add → waitUntilFinished; runner ${mode === 'child' ? '`stasis serve` child process' : 'in-process'}, concurrency ${ctx.parallel}, embedded Redis (unix socket), prepared sandboxes per key: ${st.warm}`,
            st.warm > 0
              ? 'each job: zod payload check, adopt a prepared sandbox (or overlay + conmon + runc create on a miss), start via the exec FIFO, exit file, stats, result envelope, task delete; refill in the background'
              : 'each job: zod payload check, overlay rootfs, conmon + runc create, start via the exec FIFO, exit file, stats, result envelope, task delete',
            ...badNote,
            'phases (p50): pickup = add → worker took it; start = took it → container started; finish = container exited → job completed; notify = completed → producer saw it',
          ],
        },
        { scenario: 'stasis job, directory rootfs', group: 'true job from a cached image', kind: 'baseline', measurements: latencyMeasurements(dirSeq, '`true`'), samples: { sequential: dirSeq }, notes: [] },
        {
          scenario: 'stasis job from an OCI image',
          group: 'true job from a cached image',
          kind: 'stasis',
          measurements: latencyMeasurements(imgSeq, '`true`'),
          samples: { sequential: imgSeq },
          notes: [`the same \`true\` job with \`image: ${st.imageRef}\` (busybox as one layer, unpacked once by the warm-up), interleaved with directory-rootfs jobs; the "raw" column is the directory rootfs`],
        },
      ];
    },
  };
}

const PHASES: Record<string, string> = {
  pickup: 'phase: add → picked up',
  start: 'phase: picked up → started',
  finish: 'phase: exited → completed',
  notify: 'phase: completed → seen',
};

function breakdown(phases: Record<string, number[]>): Measurement[] {
  return Object.entries(phases)
    .filter(([, v]) => v.length > 0)
    .map(([k, v]) => ({ metric: `phase.${k}`, label: `${PHASES[k]} p50`, unit: 'ms' as const, value: percentile(v, 50), better: 'lower' as const }));
}
