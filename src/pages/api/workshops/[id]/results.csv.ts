import { workshopRoute } from '../_workshops.ts';

/** GET /api/workshops/:id/results.csv: a row per learner, a column per lab step. */
export const GET = workshopRoute(async ({ workshops, learner, id }) => {
  const csv = await workshops.resultsCsv(id, learner);
  return new Response(csv, {
    headers: {
      'content-type': 'text/csv; charset=utf-8; header=present',
      'content-disposition': `attachment; filename="workshop-${id.replace(/[^a-z0-9-]/gi, '')}.csv"`,
      'cache-control': 'no-store',
    },
  });
});
