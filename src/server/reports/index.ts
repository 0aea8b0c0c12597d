// Reports for training owners (admin): completion by path, lab and team, time to complete, the
// checks that fail most and what they told learners; as JSON (schemas here) and as CSV.

export { createReports } from './reports.ts';
export type { Reports } from './reports.ts';
export { reportCsv } from './tables.ts';
export { NO_TEAM } from '../../contracts/index.ts';
export {
  checkReport,
  checksQuery,
  failingCheckRow,
  labCompletionRow,
  labReport,
  pathCompletionRow,
  pathReport,
  period,
  periodQuery,
  reportFormat,
  teamCompletionRow,
  teamReport,
} from '../../contracts/index.ts';
export type { ChecksQuery, FailingCheckRow, LabCompletionRow, PathCompletionRow, Period, PeriodQuery, TeamCompletionRow } from '../../contracts/index.ts';
