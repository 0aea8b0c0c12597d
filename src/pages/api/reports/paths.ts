import { periodQuery } from '../../../contracts/index.ts';
import { reportCsv } from '../../../server/reports/index.ts';
import { reportRoute } from './_report.ts';

/** GET /api/reports/paths?from&to&format: completion by path (admin). */
export const GET = reportRoute('paths', periodQuery, (reports, query) => reports.paths({ from: query.from ?? null, to: query.to ?? null }), reportCsv.paths);
