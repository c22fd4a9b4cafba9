/** Helpers of the operations tests: a node's HTTP address, scrapes, series values, polling. */
import type { Node } from '../migration/nodes.js';

/** The node's HTTP base URL, from its ready line (`--http 127.0.0.1:0` picks a free port). */
export function baseUrl(n: Node): string {
  const http = (n.ready as { http?: string }).http;
  if (!http) throw new Error(`node ${n.id} has no http address in its ready line: ${JSON.stringify(n.ready)}`);
  return `http://${http}`;
}

/** GET `url`: status and body text. */
export async function get(url: string, init?: RequestInit): Promise<{ status: number; text: string; type: string }> {
  const r = await fetch(url, { ...init, signal: AbortSignal.timeout(10_000) });
  return { status: r.status, text: await r.text(), type: r.headers.get('content-type') ?? '' };
}

/** The value of the first series line named `name` whose labels include `labels`; undefined when none. */
export function series(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_]+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

/** Scrapes /metrics. */
export async function scrape(n: Node): Promise<string> {
  const r = await get(`${baseUrl(n)}/metrics`);
  if (r.status !== 200) throw new Error(`/metrics answered ${r.status}: ${r.text}`);
  return r.text;
}

/** Polls `f` every 100 ms until it returns a value that is not undefined; throws after `ms`. */
export async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** /readyz as status and parsed body. */
export async function readyz(n: Node): Promise<{ status: number; body: { ready: boolean; reasons: string[]; warnings: string[] } }> {
  const r = await get(`${baseUrl(n)}/readyz`);
  return { status: r.status, body: JSON.parse(r.text) };
}
