import { checksQuery } from '../../../contracts/index.ts';
import { reportCsv } from '../../../server/reports/index.ts';
import { reportRoute } from './_report.ts';

/** GET /api/reports/checks?from&to&lab&limit&format: the checks that fail most (admin). */
export const GET = reportRoute(
  'checks',
  checksQuery,
  (reports, query) => reports.checks({ from: query.from ?? null, to: query.to ?? null, limit: query.limit, ...(query.lab ? { lab: query.lab } : {}) }),
  reportCsv.checks,
);
