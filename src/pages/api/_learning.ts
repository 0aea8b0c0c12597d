// Shared by the learning, report and xAPI routes: the learning services, query strings checked
// against the route's zod schema, and answers as JSON or CSV.

import type { z } from 'zod';
import { jsonError } from '../_http.ts';

/** The learning services, or the 503 to answer where the portal runs without them. */
export function learningOf(locals: App.Locals): NonNullable<App.Locals['services']['learning']> | Response {
  return locals.services?.learning ?? jsonError(503, 'the learning record is not available on this portal');
}

/** The query string as the schema reads it, or a 400 that names each bad parameter. */
export function parseQuery<Schema extends z.ZodType>(url: URL, schema: Schema): z.output<Schema> | Response {
  const parsed = schema.safeParse(Object.fromEntries(url.searchParams));
  if (parsed.success) return parsed.data;
  return jsonError(400, parsed.error.issues.map((issue) => `${issue.path.join('.') || 'query'}: ${issue.message}`).join('; '));
}

const NO_STORE = { 'cache-control': 'no-store' };

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return Response.json(body, { status, headers: { ...NO_STORE, ...headers } });
}

/** A CSV download named after the report and its period. */
export function csv(text: string, name: string, period: { from?: string | null; to?: string | null } = {}): Response {
  const span = [period.from ?? 'start', period.to ?? 'today'].join('-to-');
  return new Response(text, {
    headers: {
      ...NO_STORE,
      'content-type': 'text/csv; charset=utf-8; header=present',
      'content-disposition': `attachment; filename="formicary-${name}-${span}.csv"`,
    },
  });
}
