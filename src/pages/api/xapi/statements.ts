import type { APIRoute } from 'astro';
import { hasRole } from '../../../server/auth/index.ts';
import { statementsQuery } from '../../../server/xapi/index.ts';
import { jsonError } from '../../_http.ts';
import { json, learningOf, parseQuery } from '../_learning.ts';

/**
 * GET /api/xapi/statements?learner&since&until&limit&after: the xAPI statements of the learning
 * record as a StatementResult. Learners get their own; admins anyone's, or everyone's.
 */
export const GET: APIRoute = async ({ locals, url }) => {
  const learning = learningOf(locals);
  if (learning instanceof Response) return learning;
  const learner = locals.learner;
  if (!learner) return jsonError(401, 'sign in first');
  const query = parseQuery(url, statementsQuery);
  if (query instanceof Response) return query;
  const admin = hasRole(learner, 'admin');
  if (query.learner !== undefined && query.learner !== learner.id && !admin) {
    return jsonError(403, 'learner: you may download your own statements only; the admin role may download anyone’s');
  }
  const whose = query.learner ?? (admin ? undefined : learner.id);
  const page = await learning.statements(
    {
      limit: query.limit,
      ...(whose !== undefined ? { learnerId: whose } : {}),
      ...(query.since ? { since: new Date(query.since).toISOString() } : {}),
      ...(query.until ? { until: new Date(query.until).toISOString() } : {}),
      ...(query.after !== undefined ? { after: query.after } : {}),
    },
    (after) => {
      const next = new URLSearchParams(url.searchParams);
      next.set('after', String(after));
      return `${url.pathname}?${next}`;
    },
  );
  return json(page, 200, {
    'x-experience-api-version': '1.0.3',
    ...(query.download ? { 'content-disposition': `attachment; filename="formicary-statements-${whose ?? 'all'}.json"` } : {}),
  });
};
