import { periodQuery } from '../../../contracts/index.ts';
import { reportCsv } from '../../../server/reports/index.ts';
import { reportRoute } from './_report.ts';

/** GET /api/reports/labs?from&to&format: completion by lab (admin). */
export const GET = reportRoute('labs', periodQuery, (reports, query) => reports.labs({ from: query.from ?? null, to: query.to ?? null }), reportCsv.labs);
