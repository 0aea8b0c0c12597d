// The workshop API, registered beside Astro's pages because the dashboard and the learner's
// banner are event streams. Who may call what is decided before a handler runs, by the access
// table (src/server/auth/access.ts): `/api/workshops/**` is for instructors, `join` and `current`
// for every signed-in learner. Every POST has passed the CSRF check by then.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';
import { bodyRefusal, isRequestBodyError, openEventStream, readBody, type EventStream, type PortalRoutes, type RouteContext } from '../http/index.ts';
import { addInstructorInput, createWorkshopInput, extendInput, joinInput, messageInput, resetInput } from '../../contracts/index.ts';
import { WorkshopError } from './model.ts';
import type { Workshops } from './service.ts';

class SignInFirst extends Error {
  readonly status = 401;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}

/** The body of a request to these routes, read by the portal's one body reader. */
function bodyOf<Schema extends z.ZodType>(req: IncomingMessage, schema: Schema): Promise<z.output<Schema>> {
  const headers = new Headers();
  for (const name of ['content-type', 'content-length']) {
    const value = req.headers[name];
    if (typeof value === 'string') headers.set(name, value);
  }
  return readBody({ headers, body: req as AsyncIterable<Uint8Array> }, schema);
}

/** Lab errors (a lab that is not running, …) carry their status; recognised by shape, as the API routes do. */
function statusOf(error: unknown): number | null {
  if (error instanceof WorkshopError || error instanceof SignInFirst) return error.status;
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
      if (isRequestBodyError(error)) {
        const refusal = bodyRefusal(error);
        if (!res.headersSent) {
          if (refusal.headers.get('connection') === 'close') res.setHeader('connection', 'close');
          sendJson(res, refusal.status, await refusal.json());
        }
        return;
      }
      const known = statusOf(error);
      if (known === null) throw error;
      if (!res.headersSent) sendJson(res, known, { error: (error as Error).message });
    }
  };
}

function signedIn(context: RouteContext) {
  if (!context.learner) throw new SignInFirst('sign in first');
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
    .on('GET', '/api/workshops', answering(async (_req, _res, context) => ({ workshops: await workshops.list(signedIn(context)) })))
    .on('POST', '/api/workshops', answering(async (req, _res, context) => workshops.create(signedIn(context), await bodyOf(req, createWorkshopInput)), 201))
    .on('GET', '/api/workshops/:id', answering(async (_req, _res, context) => workshops.get(id(context), signedIn(context))))
    .on('POST', '/api/workshops/:id/instructors', answering(async (req, _res, context) => workshops.addInstructor(id(context), signedIn(context), await bodyOf(req, addInstructorInput))))
    .on('GET', '/api/workshops/:id/dashboard', answering(async (_req, _res, context) => workshops.dashboard(id(context), signedIn(context))))
    .on('POST', '/api/workshops/:id/message', answering(async (req, _res, context) => workshops.postMessage(id(context), signedIn(context), await bodyOf(req, messageInput))))
    .on('POST', '/api/workshops/:id/extend', answering(async (req, _res, context) => workshops.extend(id(context), signedIn(context), await bodyOf(req, extendInput))))
    .on('POST', '/api/workshops/:id/end', answering(async (_req, _res, context) => workshops.end(id(context), signedIn(context))))
    .on(
      'POST',
      '/api/workshops/:id/learners/:learner/reset',
      answering(async (req, _res, context) => {
        const { lab } = await bodyOf(req, resetInput);
        await workshops.resetLab(id(context), signedIn(context), context.params.learner ?? '', lab);
        return { reset: true };
      }),
    )
    .on(
      'GET',
      '/api/workshops/:id/results.csv',
      answering(async (_req, res, context) => {
        const csv = await workshops.resultsCsv(id(context), signedIn(context));
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
        const instructor = signedIn(context);
        await workshops.get(id(context), instructor);
        const stream = open(req, res);
        const stop = await workshops.watch(id(context), instructor, (event) => stream.send(event.type === 'dashboard' ? event.dashboard : { row: event.row, completions: event.completions }, { event: event.type }));
        await stream.closed;
        stop();
      }),
    )
    .on('POST', '/api/workshops/join', answering(async (req, _res, context) => workshops.join(signedIn(context), await bodyOf(req, joinInput))))
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
