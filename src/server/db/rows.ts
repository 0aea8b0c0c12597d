import type { z } from 'zod';
import { QueryError } from './types.ts';

export function parseRows<Row>(row: z.ZodType<Row>, sql: string, rows: readonly unknown[]): Row[] {
  return rows.map((raw, index) => {
    const parsed = row.safeParse(raw);
    if (parsed.success) return parsed.data;
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.') || '(row)'}: ${issue.message}`).join('; ');
    throw new QueryError(sql, new Error(`row ${index} does not have the expected shape: ${issues}`));
  });
}
