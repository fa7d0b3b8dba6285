// GET /v1/events: Server-Sent Events for live views. Each client has a
// bounded queue; one that cannot keep up is disconnected (it reconnects and
// refetches) instead of growing the orchestrator's memory.
import type { FastifyInstance } from 'fastify';
import type { LiveEvent } from './live-events.js';
import type { OrchestratorService } from './service.js';

const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const KEEPALIVE_MS = 15_000;

export function registerEventStream(app: FastifyInstance, service: OrchestratorService): void {
  app.get('/v1/events', (req, reply) => {
    const only = (req.query as Record<string, string | undefined>).constellation;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 1000\n: connected\n\n');
    const relevant = (e: LiveEvent): boolean => {
      if (!only || e.type === 'device') return true;
      return e.type === 'constellation' ? e.data.id === only : e.data.constellationId === only;
    };
    const unsubscribe = service.subscribe((event) => {
      if (!relevant(event)) return;
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        res.destroy();
        return;
      }
      res.write(`event: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`);
    });
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
    keepalive.unref();
    const done = (): void => {
      clearInterval(keepalive);
      unsubscribe();
    };
    res.on('close', done);
    res.on('error', done);
  });
}
