// The portal's one CSV writer, for every export (reports, certificates, workshop results).
// RFC 4180: a header row, CRLF after every record, fields with a comma, a quote or a line break
// quoted, quotes inside doubled. Text a spreadsheet would run as a formula (a cell starting with
// =, +, -, @, a tab or a carriage return) is neutralised as OWASP's "CSV Injection" page advises:
// a leading apostrophe, and the cell quoted. Opening an export then runs nothing a learner typed
// (their name) or a check printed. Numbers stay numbers: -3 is a value, not a formula.

export type CsvValue = string | number | boolean | null;

export interface CsvColumn<Row> {
  header: string;
  value: (row: Row) => CsvValue;
}

const FORMULA_START = /^[=+\-@\t\r]/;

function field(value: CsvValue): string {
  if (value === null) return '';
  if (typeof value === 'string' && FORMULA_START.test(value)) return `"'${value.replace(/"/g, '""')}"`;
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** One record: the fields and its CRLF. */
export function csvRecord(values: readonly CsvValue[]): string {
  return `${values.map(field).join(',')}\r\n`;
}

export function toCsv<Row>(columns: readonly CsvColumn<Row>[], rows: readonly Row[]): string {
  return csvRecord(columns.map((column) => column.header)) + rows.map((row) => csvRecord(columns.map((column) => column.value(row)))).join('');
}
