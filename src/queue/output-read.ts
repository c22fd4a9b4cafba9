/** Reading a job's exact output stream (output-log.ts) from a client: the chunks in order, optionally following until the job finished. */
import type { Redis } from 'ioredis';
import type { QueueRef } from './cancel.js';
import { outputStreamKey, type OutputChunk } from './output-log.js';

/** Options of readOutput. */
export interface ReadOutputOptions {
  /** Keep reading until `finished()` says the job is done, then drain what is left. */
  follow?: boolean;
  /** True once the job finished (checked between blocking reads). */
  finished?: () => Promise<boolean>;
  /** Block at most this long per read while following, ms (default 200). */
  blockMs?: number;
  signal?: AbortSignal;
}

type Entries = [string, string[]][];

function chunkOf(fields: string[]): OutputChunk | null {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
  if (f.d === undefined) return null;
  return { stream: f.s === 'e' ? 'stderr' : 'stdout', data: f.d, partial: !f.d.endsWith('\n') };
}

/** Yields the job's output chunks exactly as the task wrote them (`redis` must be a connection of its own: reads block). */
export async function* readOutput(redis: Redis, q: QueueRef, jobId: string, o: ReadOutputOptions = {}): AsyncGenerator<OutputChunk> {
  const key = outputStreamKey(q, jobId);
  let last = '0-0';
  let finishedSeen = false;
  for (;;) {
    if (o.signal?.aborted) return;
    // Seen finished BEFORE reading: every chunk was written before the job finished.
    if (o.follow && !finishedSeen && o.finished) finishedSeen = await o.finished();
    const block = o.follow && !finishedSeen;
    const res = (block
      ? await redis.xread('COUNT', 1000, 'BLOCK', o.blockMs ?? 200, 'STREAMS', key, last)
      : await redis.xread('COUNT', 1000, 'STREAMS', key, last)) as [string, Entries][] | null;
    const entries = res?.[0]?.[1] ?? [];
    for (const [id, fields] of entries) {
      last = id;
      const c = chunkOf(fields);
      if (c) yield c;
    }
    if (entries.length > 0) continue;
    if (!o.follow || finishedSeen) return;
  }
}
