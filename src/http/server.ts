/**
 * The node's one small HTTP server (`stasis serve --http ADDR`): `/metrics` (Prometheus text),
 * `/healthz` (the process answers), `/readyz` (the node takes jobs: 200, else 503 with the reasons as
 * JSON) and, with `--ui`, the read-only Bull Board at `/ui`.
 *
 * Why fastify rather than node:http: Bull Board mounts on a framework through an adapter and has
 * none for bare node:http; fastify's is first-party, fastify itself is small and fast, and its
 * routing, hooks and error handling keep this file short. It is imported only when `--http` is set,
 * so a node without it loads none of this.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { Queue } from 'bullmq';
import type { Logger } from '../log/logger.js';
import { logError } from '../log/node-events.js';
import type { NodeMetrics } from '../metrics/node-metrics.js';
import { readiness, type ReadinessInput } from '../health/readiness.js';
import type { ListenAddress } from './address.js';

/** What the server asks of the node when a request comes. */
export interface HttpNode {
  nodeId: string;
  /** The facts readiness is decided from. */
  readiness(): ReadinessInput;
  /** BullMQ's series of the queue (null when Redis did not answer), appended to /metrics. */
  queueMetrics?(): Promise<string | null>;
}

/** Options of startHttpServer. */
export interface HttpServerOptions {
  address: ListenAddress;
  node: HttpNode;
  metrics: NodeMetrics;
  /** Mount the read-only Bull Board of this queue at /ui. */
  ui?: Queue;
  log: Logger;
}

/** A listening server. */
export interface HttpServer {
  /** Where it listens (the real port when 0 was asked for). */
  readonly address: ListenAddress;
  close(): Promise<void>;
}

/** A `<link>` to another host (the board's web fonts): the page must not make the browser leave this node. */
const EXTERNAL_LINK = /<link\b[^>]*\bhref="(?:https?:)?\/\/[^"]*"[^>]*>\s*/gi;
/** The board's page may load only what this server serves (its inline `<style>` and style attributes aside). */
const UI_CSP = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'";

function routes(app: FastifyInstance, o: HttpServerOptions): void {
  app.get('/healthz', async () => ({ status: 'ok', nodeId: o.node.nodeId }));
  app.get('/readyz', async (_req, reply) => {
    const r = readiness(o.node.readiness());
    return reply.code(r.ready ? 200 : 503).send({ ...r, nodeId: o.node.nodeId });
  });
  app.get('/metrics', async (_req, reply) => {
    const queue = o.node.queueMetrics?.().catch((e: unknown) => {
      logError(o.log, e, { route: '/metrics' }, 'warn');
      return null;
    });
    const [own, bullmq] = await Promise.all([o.metrics.text(), queue ?? Promise.resolve(null)]);
    return reply.type(o.metrics.contentType).send(bullmq ? `${own}\n${bullmq}\n` : own);
  });
}

function readOnlyUi(app: FastifyInstance): void {
  app.addHook('onRequest', async (req, reply) => {
    if (!req.url.startsWith('/ui')) return;
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply.code(405).header('allow', 'GET, HEAD').send({ error: 'the dashboard is read-only' });
  });
  app.addHook('onSend', async (req, reply, payload) => {
    if (!req.url.startsWith('/ui')) return payload;
    reply.header('content-security-policy', UI_CSP);
    const type = String(reply.getHeader('content-type') ?? '');
    return type.startsWith('text/html') && typeof payload === 'string' ? payload.replace(EXTERNAL_LINK, '') : payload;
  });
}

/** Starts the server; rejects when it cannot listen (the address is taken, …). */
export async function startHttpServer(o: HttpServerOptions): Promise<HttpServer> {
  const app = Fastify({ logger: false });
  app.setErrorHandler((e, req, reply) => {
    logError(o.log, e, { route: req.url });
    void reply.code(500).send({ error: e instanceof Error ? e.message : String(e) });
  });
  routes(app, o);
  if (o.ui) {
    readOnlyUi(app);
    const { mountBoard } = await import('./ui.js');
    await mountBoard(app, o.ui, { nodeId: o.node.nodeId });
  }
  await app.listen({ host: o.address.host, port: o.address.port });
  const bound = app.server.address();
  const port = bound !== null && typeof bound === 'object' ? bound.port : o.address.port;
  return {
    address: { host: o.address.host, port },
    close: () => app.close(),
  };
}
