// The workshop's results as CSV (RFC 4180): CRLF line ends, a header row, fields quoted when they
// hold a comma, a double quote or a line break, quotes doubled inside.

import type { Dashboard } from './model.ts';

function field(value: string | number): string {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function line(values: ReadonlyArray<string | number>): string {
  return `${values.map(field).join(',')}\r\n`;
}

export function resultsCsv(dashboard: Dashboard): string {
  const { columns, rows } = dashboard;
  let text = line(['learner', 'joined_at', ...columns.map((column) => `${column.lab}/${column.step}`), 'steps_passed', 'steps_total', 'current_step', 'stuck']);
  for (const row of rows) {
    text += line([
      row.name,
      row.joinedAt,
      ...row.cells,
      row.passedSteps,
      columns.length,
      row.current ? `${row.current.lab}/${row.current.step}` : '',
      row.stuck ?? '',
    ]);
  }
  return text;
}
