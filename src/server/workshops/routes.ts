// The workshop API, registered beside Astro's pages because the dashboard and the learner's
// banner are event streams. Who may call what is decided before a handler runs, by the access
// table (src/server/auth/access.ts): `/api/workshops/**` is for instructors, `join` and `current`
// for every signed-in learner. Every POST has passed the CSRF check by then.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { openEventStream, type EventStream, type PortalRoutes, type RouteContext } from '../http/index.ts';
import { WorkshopError } from './model.ts';
import type { Workshops } from './service.ts';

const BODY_LIMIT_BYTES = 64 * 1024;

class BadRequest extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const type = req.headers['content-type'] ?? '';
  if (type !== '' && !type.startsWith('application/json')) throw new BadRequest(415, 'send the request body as JSON (content-type: application/json)');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > BODY_LIMIT_BYTES) throw new BadRequest(413, `the request body is larger than ${BODY_LIMIT_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequest(400, 'the request body is not JSON');
  }
}

/** Lab errors (a lab that is not running, …) carry their status; recognised by shape, as the API routes do. */
function statusOf(error: unknown): number | null {
  if (error instanceof WorkshopError || error instanceof BadRequest) return error.status;
  if (error instanceof Error && error.name === 'LabRequestError' && 'status' in error && typeof error.status === 'number') return error.status;
  return null;
}

type Handler = (req: IncomingMessage, res: ServerResponse, context: RouteContext) => Promise<void>;

function answering(work: (req: IncomingMessage, res: ServerResponse, context: RouteContext) => Promise<unknown>, status = 200): Handler {
  return async (req, res, context) => {
    try {
      const body = await work(req, res, context);
      if (!res.headersSent) sendJson(res, status, body);
    } catch (error) {
      const known = statusOf(error);
      if (known === null) throw error;
      if (!res.headersSent) sendJson(res, known, { error: (error as Error).message });
    }
  };
}

function signedIn(context: RouteContext) {
  if (!context.learner) throw new BadRequest(401, 'sign in first');
  return context.learner;
}

export function registerWorkshopRoutes(routes: PortalRoutes, workshops: Workshops): void {
  const id = (context: RouteContext) => context.params.id ?? '';
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

  // A handler registered before these (main.ts's `configure`, where tests stand in) keeps its address.
  const offered = {
    on(method: string, pattern: string, handler: Handler) {
      try {
        routes.on(method, pattern, handler);
      } catch (error) {
        if (!(error as Error).message.endsWith('already registered')) throw error;
      }
      return offered;
    },
  };

  offered
    .on('GET', '/api/workshops', answering(async () => ({ workshops: await workshops.list() })))
    .on('POST', '/api/workshops', answering(async (req, _res, context) => workshops.create(signedIn(context), await readJson(req)), 201))
    .on('GET', '/api/workshops/:id', answering(async (_req, _res, context) => workshops.get(id(context))))
    .on('GET', '/api/workshops/:id/dashboard', answering(async (_req, _res, context) => workshops.dashboard(id(context))))
    .on('POST', '/api/workshops/:id/message', answering(async (req, _res, context) => workshops.postMessage(id(context), await readJson(req))))
    .on('POST', '/api/workshops/:id/extend', answering(async (req, _res, context) => workshops.extend(id(context), await readJson(req))))
    .on('POST', '/api/workshops/:id/end', answering(async (_req, _res, context) => workshops.end(id(context))))
    .on(
      'POST',
      '/api/workshops/:id/learners/:learner/reset',
      answering(async (req, _res, context) => {
        const body = await readJson(req);
        const lab = body && typeof body === 'object' && 'lab' in body && typeof body.lab === 'string' ? body.lab : null;
        if (!lab) throw new BadRequest(400, 'lab: name the lab to reset, e.g. {"lab": "deploy-and-expose"}');
        await workshops.resetLab(id(context), context.params.learner ?? '', lab);
        return { reset: true };
      }),
    )
    .on(
      'GET',
      '/api/workshops/:id/results.csv',
      answering(async (_req, res, context) => {
        const csv = await workshops.resultsCsv(id(context));
        res.writeHead(200, {
          'content-type': 'text/csv; charset=utf-8; header=present',
          'content-disposition': `attachment; filename="workshop-${id(context).replace(/[^a-z0-9-]/gi, '')}.csv"`,
          'cache-control': 'no-store',
        });
        res.end(csv);
      }),
    )
    .on(
      'GET',
      '/api/workshops/:id/events',
      answering(async (req, res, context) => {
        await workshops.get(id(context));
        const stream = open(req, res);
        const stop = await workshops.watch(id(context), (event) => stream.send(event.type === 'dashboard' ? event.dashboard : { row: event.row, completions: event.completions }, { event: event.type }));
        await stream.closed;
        stop();
      }),
    )
    .on('POST', '/api/workshops/join', answering(async (req, _res, context) => workshops.join(signedIn(context), await readJson(req))))
    .on('GET', '/api/workshops/current', answering(async (_req, _res, context) => ({ workshop: await workshops.current(signedIn(context).id) })))
    .on(
      'GET',
      '/api/workshops/current/events',
      answering(async (req, res, context) => {
        const learner = signedIn(context);
        const stream = open(req, res);
        const stop = await workshops.follow(learner.id, (event) => {
          const { type, ...data } = event;
          stream.send(data, { event: type });
        });
        await stream.closed;
        stop();
      }),
    );
}
