// CSV as RFC 4180 has it: a header row, CRLF after every record, fields with a comma, a quote or
// a line break quoted, quotes inside doubled. Text that a spreadsheet would run as a formula
// (=, +, -, @ at the start) gets a leading apostrophe, so opening an export runs nothing a learner
// typed or a check printed.

export interface CsvColumn<Row> {
  header: string;
  value: (row: Row) => string | number | boolean | null;
}

const FORMULA_START = /^[=+\-@\t\r]/;

function field(value: string | number | boolean | null): string {
  if (value === null) return '';
  const text = typeof value === 'string' && FORMULA_START.test(value) ? `'${value}` : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv<Row>(columns: readonly CsvColumn<Row>[], rows: readonly Row[]): string {
  const lines = [columns.map((column) => field(column.header)), ...rows.map((row) => columns.map((column) => field(column.value(row))))];
  return lines.map((cells) => `${cells.join(',')}\r\n`).join('');
}
