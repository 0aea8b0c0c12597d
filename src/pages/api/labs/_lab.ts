// Shared by the lab API routes: who may call them and how errors are answered. Every route acts
// only on the signed-in learner's own lab session; state changes are POSTs from this site only.

import type { APIContext } from 'astro';
import { loadCatalog } from '../../../catalog/index.ts';
import { labActionInput, type Learner } from '../../../contracts/index.ts';
import type { LabSessions } from '../../../server/labs/index.ts';
import { bodyOf, jsonError } from '../../_http.ts';

export interface LabRequest {
  labs: LabSessions;
  learner: Learner;
  lab: string;
  /** The lab session the page names (it must be the learner's own), or null for their open one. */
  session: string | null;
}

const SESSION_ID = /^[0-9a-f-]{36}$/;


/**
 * A browser sends Origin with every POST, and Sec-Fetch-Site where it supports it; either one
 * naming another site means a page elsewhere is trying to act with the learner's cookie.
 */
function crossSite(context: APIContext): boolean {
  const origin = context.request.headers.get('origin');
  if (origin !== null) {
    try {
      return new URL(origin).host !== context.url.host && new URL(origin).host !== context.request.headers.get('host');
    } catch {
      return true;
    }
  }
  const site = context.request.headers.get('sec-fetch-site');
  return site !== null && site !== 'same-origin' && site !== 'none';
}

/** Validates the request; a Response is the refusal to send. */
export async function labRequest(context: APIContext, options: { changesState: boolean }): Promise<LabRequest | Response> {
  const labs = context.locals.services?.labs;
  if (!labs) return jsonError(503, 'labs are not available on this portal');
  if (options.changesState && crossSite(context)) return jsonError(403, 'lab requests must come from this site');
  const learner = context.locals.learner;
  if (!learner) return jsonError(401, 'sign in first: POST /api/session {name}');
  const lab = context.params.lab ?? '';
  if (!(await labs.describe(lab))) return jsonError(404, `there is no lab "${lab}"`);
  let session = context.url.searchParams.get('session');
  if (options.changesState) {
    const body = await bodyOf(context.request, labActionInput);
    if (body instanceof Response) return body;
    session = body.session ?? session;
  }
  if (session !== null && !SESSION_ID.test(session)) return jsonError(400, `session: "${session.slice(0, 60)}" is not a lab session id`);
  return { labs, learner, lab, session };
}

/** The lessons that hold a lab: completing the lab completes them. */
export async function lessonsWithLab(lab: string): Promise<Array<{ path: string; lesson: string }>> {
  const catalog = await loadCatalog();
  return catalog.flatMap((path) => path.lessons.filter((lesson) => lesson.lab === lab).map((lesson) => ({ path: path.id, lesson: lesson.id })));
}

/** Answers a service call: its result as JSON, a LabRequestError as its status and message. */
export async function answer(work: () => Promise<unknown>, status = 200): Promise<Response> {
  try {
    return Response.json(await work(), { status, headers: { 'cache-control': 'no-store' } });
  } catch (error) {
    // Recognised by name: the error class lives in the server's module graph, not the site bundle.
    if (error instanceof Error && error.name === 'LabRequestError' && 'status' in error && typeof error.status === 'number') {
      return jsonError(error.status, error.message);
    }
    throw error;
  }
}


