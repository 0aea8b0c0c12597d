import type { APIRoute } from 'astro';
import { revokeRequest } from '../../../../../contracts/index.ts';
import { bodyOf, isFormPost, jsonError, redirect } from '../../../../_http.ts';
import { requireRole } from '../../../../_access.ts';
import { json, learningOf } from '../../../_learning.ts';

/**
 * POST /api/reports/certificates/{id}/revoke {reason}: revokes a certificate (admin). A form goes
 * back to the certificates page; a script gets the certificate.
 */
export const POST: APIRoute = async (context) => {
  const refused = await requireRole(context, 'admin');
  if (refused) return refused;
  const learning = learningOf(context.locals);
  if (learning instanceof Response) return learning;
  const form = isFormPost(context.request);
  const fields = await bodyOf(context.request, revokeRequest, { forms: true });
  if (fields instanceof Response) return fields;
  const id = context.params.id ?? '';
  const certificate = await learning.record.certificates.revoke(id, { learnerId: context.locals.learner!.id, reason: fields.reason });
  if (!certificate) return jsonError(404, `there is no certificate ${JSON.stringify(id.slice(0, 40))}`);
  return form ? redirect(`/admin/reports/certificates#certificate-${certificate.id}`) : json(certificate);
};
