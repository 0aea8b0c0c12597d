// The workshop's results as CSV, written by the portal's one CSV writer (src/server/csv): a row per
// learner, a column per lab step.

import { csvRecord } from '../csv/index.ts';
import type { Dashboard } from '../../contracts/index.ts';

export function resultsCsv(dashboard: Dashboard): string {
  const { columns, rows } = dashboard;
  let text = csvRecord(['learner', 'joined_at', ...columns.map((column) => `${column.lab}/${column.step}`), 'steps_passed', 'steps_total', 'current_step', 'stuck']);
  for (const row of rows) {
    text += csvRecord([row.name, row.joinedAt, ...row.cells, row.passedSteps, columns.length, row.current ? `${row.current.lab}/${row.current.step}` : '', row.stuck ?? '']);
  }
  return text;
}
