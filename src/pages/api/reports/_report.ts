// One report route: admin only, a period (and filters) from the query string, JSON or CSV.

import type { APIContext, APIRoute } from 'astro';
import type { z } from 'zod';
import type { Reports } from '../../../server/reports/index.ts';
import { requireRole } from '../../_access.ts';
import { csv, json, learningOf, parseQuery } from '../_learning.ts';

export function reportRoute<Schema extends z.ZodType<{ from?: string | undefined; to?: string | undefined; format: 'json' | 'csv' }>, Row>(
  name: string,
  schema: Schema,
  rows: (reports: Reports, query: z.output<Schema>) => Promise<Row[]>,
  table: (rows: Row[]) => string,
): APIRoute {
  return async (context: APIContext) => {
    const refused = await requireRole(context, 'admin');
    if (refused) return refused;
    const learning = learningOf(context.locals);
    if (learning instanceof Response) return learning;
    const query = parseQuery(context.url, schema);
    if (query instanceof Response) return query;
    const found = await rows(learning.reports, query);
    const period = { from: query.from ?? null, to: query.to ?? null };
    return query.format === 'csv' ? csv(table(found), name, period) : json({ period, [name]: found });
  };
}
