// For pages and API routes that need more than their access rule (src/server/auth/access.ts,
// which the portal applies before any page runs): e.g. an address open to learners where one
// action is for instructors. Returns null when the request may go on, else the answer to return:
//
//   const refused = await requireRole(Astro, 'instructor');   // or (context, …) in an API route
//   if (refused) return refused;

import type { APIContext } from 'astro';
import { refusalFor, type Access } from '../server/auth/index.ts';
import type { Role } from '../contracts/index.ts';
import { jsonError } from './_http.ts';

type PageContext = Pick<APIContext, 'locals' | 'url' | 'rewrite'>;

async function require(context: PageContext, access: Access): Promise<Response | null> {
  const refusal = refusalFor(access, context.locals.learner);
  if (refusal === null) return null;
  if (context.url.pathname.startsWith('/api/')) return jsonError(refusal.status, refusal.message);
  if (refusal.status === 401) {
    return new Response(null, { status: 303, headers: { location: `/signin?next=${encodeURIComponent(context.url.pathname + context.url.search)}` } });
  }
  context.locals.refusal = refusal;
  return context.rewrite('/auth/refused');
}

export function requireLearner(context: PageContext): Promise<Response | null> {
  return require(context, 'learner');
}

export function requireRole(context: PageContext, role: Role): Promise<Response | null> {
  return require(context, role);
}
