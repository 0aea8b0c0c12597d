// Printers for resources without a hand-written one: the API server's default convertor
// (NAME, CREATED AT) and the convertor a CRD's additionalPrinterColumns define.
import type { PrinterColumn } from '../../registry/index.ts';
import { at, humanDuration, int, parseTime, since } from './format.ts';
import { evaluateJsonPath, parseJsonPath } from '../../../jsonpath/index.ts';
import { column, descriptions, nameColumn, type Printer, type TableCell } from './printer.ts';

/** rest.DefaultTableConvertor: the creation time as an RFC 3339 date, not an age. */
export const defaultPrinter: Printer = {
  columns: [nameColumn(), column('Created At', 'date', descriptions.creationTimestamp)],
  print(o) {
    const created = parseTime(o.metadata.creationTimestamp);
    return { cells: [o.metadata.name ?? '', created === undefined ? null : new Date(created).toISOString().replace(/\.\d{3}Z$/, 'Z')] };
  },
};

/** A CRD version without additionalPrinterColumns is served with an Age column. */
const defaultCustomColumns: PrinterColumn[] = [{ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: descriptions.creationTimestamp }];

/** How a printer column shows one value: text as is, null as Go prints nil, maps and lists as compact JSON. */
function jsonPathText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '<nil>';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function cellForJsonValue(type: string, value: unknown, now: Date): TableCell {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'integer':
      return typeof value === 'number' ? Math.trunc(value) : null;
    case 'number':
      return typeof value === 'number' ? value : null;
    case 'boolean':
      return typeof value === 'boolean' ? value : null;
    case 'date': {
      if (typeof value !== 'string') return null;
      const t = parseTime(value);
      return t === undefined ? '<invalid>' : humanDuration(now.getTime() - t);
    }
    default:
      return null;
  }
}

/** tableconvertor.New: NAME, then one column per printer column with its JSONPath evaluated. */
export function customResourcePrinter(printerColumns: PrinterColumn[] | undefined): Printer {
  const columns = printerColumns && printerColumns.length > 0 ? printerColumns : defaultCustomColumns;
  const paths = columns.map((c) => parseJsonPath(c.jsonPath));
  return {
    columns: [
      nameColumn(),
      ...columns.map((c) => column(c.name, c.type, c.description || `Custom resource definition column (in JSONPath format): ${c.jsonPath}`, { priority: c.priority ?? 0, format: c.format ?? '' })),
    ],
    print(o, now) {
      const cells: TableCell[] = [o.metadata.name ?? ''];
      columns.forEach((c, i) => {
        const path = paths[i];
        const [value] = path ? evaluateJsonPath(path, o) : [];
        if (value === undefined) cells.push(null);
        else if (c.type === 'string') cells.push(jsonPathText(value));
        else cells.push(cellForJsonValue(c.type, value, now));
      });
      return { cells };
    },
  };
}

/** printScale: the Scale subresource of deployments, replicasets, statefulsets and scalable CRDs. */
export const scalePrinter: Printer = {
  columns: [
    column('Name', 'string', descriptions.name),
    column('Desired', 'integer', 'replicas is the desired number of instances for the scaled object.'),
    column('Available', 'integer', 'replicas is the actual number of observed instances of the scaled object.'),
    column('Age', 'string', descriptions.creationTimestamp),
  ],
  print(o, now) {
    return { cells: [o.metadata.name ?? '', int(at(o, 'spec', 'replicas')), int(at(o, 'status', 'replicas')), since(o.metadata.creationTimestamp, now)] };
  },
};
