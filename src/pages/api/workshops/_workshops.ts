// Shared by the workshop API routes: the workshop service, the signed-in person, and errors
// answered as JSON. Who may call which route is the access table's (src/server/auth/access.ts):
// `/api/workshops/**` is for instructors, `join` and `current` for every signed-in learner; which
// workshops an instructor may see and act on is the service's (404 for another's).

import type { APIContext, APIRoute } from 'astro';
import type { Learner } from '../../../contracts/index.ts';
import type { Workshops } from '../../../server/workshops/index.ts';
import { bodyRefusal, isRequestBodyError } from '../../../server/http/index.ts';
import { jsonError } from '../../_http.ts';

export interface WorkshopRequest {
  workshops: Workshops;
  learner: Learner;
  /** The route's `[id]`. */
  id: string;
}

/**
 * Errors carry their status: the service's WorkshopError, a lab's LabRequestError, a refused body.
 * Recognised by name and shape: those classes live in the server's module graph, not the site's.
 */
function statusOf(error: unknown): number | null {
  if (!(error instanceof Error) || !['WorkshopError', 'LabRequestError'].includes(error.name)) return null;
  return 'status' in error && typeof error.status === 'number' ? error.status : null;
}

/** A workshop route: `work` answers JSON (a Response as it is), with `status` on success. */
export function workshopRoute(work: (request: WorkshopRequest, context: APIContext) => Promise<unknown>, status = 200): APIRoute {
  return async (context) => {
    const workshops = context.locals.services?.workshops;
    if (!workshops) return jsonError(503, 'workshops are not available on this portal');
    const learner = context.locals.learner;
    if (!learner) return jsonError(401, 'sign in first');
    try {
      const answer = await work({ workshops, learner, id: context.params.id ?? '' }, context);
      return answer instanceof Response ? answer : Response.json(answer, { status, headers: { 'cache-control': 'no-store' } });
    } catch (error) {
      if (isRequestBodyError(error)) return bodyRefusal(error);
      const known = statusOf(error);
      if (known === null) throw error;
      return jsonError(known, (error as Error).message);
    }
  };
}
