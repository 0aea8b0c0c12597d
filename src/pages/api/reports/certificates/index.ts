import type { APIRoute } from 'astro';
import { certificatesQuery, type Certificate } from '../../../../contracts/index.ts';
import { toCsv, type CsvColumn } from '../../../../server/csv/index.ts';
import { requireRole } from '../../../_access.ts';
import { csv, json, learningOf, parseQuery } from '../../_learning.ts';

const COLUMNS: CsvColumn<Certificate>[] = (
  ['id', 'code', 'learnerId', 'learnerName', 'path', 'pathTitle', 'issuedAt', 'revokedAt', 'revokedBy', 'revokedReason'] as const
).map((name) => ({ header: name, value: (certificate) => certificate[name] }));

/** GET /api/reports/certificates?path&format: certificates issued, newest first (admin). */
export const GET: APIRoute = async (context) => {
  const refused = await requireRole(context, 'admin');
  if (refused) return refused;
  const learning = learningOf(context.locals);
  if (learning instanceof Response) return learning;
  const query = parseQuery(context.url, certificatesQuery);
  if (query instanceof Response) return query;
  const certificates = await learning.record.certificates.list(query.path ? { path: query.path } : {});
  return query.format === 'csv' ? csv(toCsv(COLUMNS, certificates), 'certificates') : json({ certificates });
};
