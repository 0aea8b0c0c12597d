import { periodQuery } from '../../../contracts/index.ts';
import { reportCsv } from '../../../server/reports/index.ts';
import { reportRoute } from './_report.ts';

/** GET /api/reports/teams?from&to&format: completion by team (admin). */
export const GET = reportRoute('teams', periodQuery, (reports, query) => reports.teams({ from: query.from ?? null, to: query.to ?? null }), reportCsv.teams);
