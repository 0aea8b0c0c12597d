// admission.NewForbidden: `pods "web" is forbidden: <reason>`, 403.
import { qualifiedResource, type StatusError, statusErrors } from '../../types.ts';
import type { AdmissionRequest } from '../../registry/index.ts';

export function forbidden(request: AdmissionRequest, reason: string): StatusError {
  const gr = { group: request.definition.group, resource: request.definition.resource };
  return statusErrors.forbidden(`${qualifiedResource(gr)} "${request.name}" is forbidden: ${reason}`, gr, request.name);
}

/** utilerrors.NewAggregate: one message alone, several in brackets. */
export function aggregate(messages: string[]): string {
  return messages.length === 1 ? (messages[0] as string) : `[${messages.join(', ')}]`;
}
