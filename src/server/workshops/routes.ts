// The workshop's event streams, served beside Astro's pages because they stay open: the
// instructor's live dashboard and the learner's banner. Every JSON endpoint of the workshop API is
// a page route (src/pages/api/workshops). Who may open which stream is the access table's
// (src/server/auth/access.ts); which workshop an instructor may follow is the service's.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { openEventStream, type EventStream, type PortalRoutes, type RouteContext } from '../http/index.ts';
import { WorkshopError } from './model.ts';
import type { Workshops } from './service.ts';

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

type Handler = (req: IncomingMessage, res: ServerResponse, context: RouteContext) => Promise<void>;

/** A stream that cannot start (no such workshop, nobody signed in) is answered as JSON. */
function streaming(work: Handler): Handler {
  return async (req, res, context) => {
    if (!context.learner) return sendJson(res, 401, { error: 'sign in first' });
    try {
      await work(req, res, context);
    } catch (error) {
      if (!(error instanceof WorkshopError)) throw error;
      if (!res.headersSent) sendJson(res, error.status, { error: error.message });
    }
  };
}

export function registerWorkshopRoutes(routes: PortalRoutes, workshops: Workshops): void {
  const streams = new Set<EventStream>();
  const open = (req: IncomingMessage, res: ServerResponse): EventStream => {
    const stream = openEventStream(req, res);
    streams.add(stream);
    void stream.closed.then(() => streams.delete(stream));
    return stream;
  };
  // Open streams would hold a stopping portal for its whole grace period.
  routes.onShutdown(() => {
    for (const stream of streams) stream.close();
  });

  routes
    .on(
      'GET',
      '/api/workshops/:id/events',
      streaming(async (req, res, context) => {
        const id = context.params.id ?? '';
        const instructor = context.learner!;
        await workshops.get(id, instructor);
        const stream = open(req, res);
        const stop = await workshops.watch(id, instructor, (event) => stream.send(event.type === 'dashboard' ? event.dashboard : { row: event.row, completions: event.completions }, { event: event.type }));
        await stream.closed;
        stop();
      }),
    )
    .on(
      'GET',
      '/api/workshops/current/events',
      streaming(async (req, res, context) => {
        const stream = open(req, res);
        const stop = await workshops.follow(context.learner!.id, (event) => {
          const { type, ...data } = event;
          stream.send(data, { event: type });
        });
        await stream.closed;
        stop();
      }),
    );
}
