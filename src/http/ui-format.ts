/**
 * What the dashboard shows of a job: its envelope and payload with long strings (stdout, stderr,
 * stdin) cut to a few KiB, so a page of jobs whose outputs reach their caps (1 MiB per stream by
 * default) stays small and readable. The job in Redis is untouched; `stasis result ID` prints it all.
 * Pure.
 */

/** Characters of one output string the dashboard shows (default). */
export const UI_MAX_CHARS = 16 * 1024;

/** `s` cut to `max` characters, with a note of what was left out. */
export function clip(s: string, max: number, jobHint: string): string {
  if (s.length <= max) return s;
  return `${s.slice(0, max)}\n… [${s.length - max} more characters not shown here; all of it: ${jobHint}]`;
}

function clipFields(v: unknown, fields: readonly string[], max: number, hint: string): unknown {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
  const o = v as Record<string, unknown>;
  let out: Record<string, unknown> | null = null;
  for (const f of fields) {
    const s = o[f];
    if (typeof s === 'string' && s.length > max) {
      out ??= { ...o };
      out[f] = clip(s, max, hint);
    }
  }
  return out ?? v;
}

/** A job's return value (the envelope) as the dashboard shows it. */
export function displayResult(v: unknown, max = UI_MAX_CHARS): unknown {
  return clipFields(v, ['stdout', 'stderr'], max, 'stasis result JOB_ID');
}

/** A job's data (the payload, and a failed job's envelope under `stasisResult`) as the dashboard shows it. */
export function displayData(v: unknown, max = UI_MAX_CHARS): unknown {
  const d = clipFields(v, ['stdin'], max, 'the job data in Redis');
  if (d === null || typeof d !== 'object' || Array.isArray(d)) return d;
  const r = (d as Record<string, unknown>).stasisResult;
  if (r === undefined) return d;
  const shown = displayResult(r, max);
  return shown === r ? d : { ...(d as Record<string, unknown>), stasisResult: shown };
}
