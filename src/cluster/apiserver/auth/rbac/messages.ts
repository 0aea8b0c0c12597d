// The text of a 403 exactly as the API server writes it (responsewriters.Forbidden and
// apierrors.NewForbidden), so learners read the message they would read on a real cluster.
import { qualifiedResource, statusErrors, type StatusError } from '../../../types.ts';
import type { AuthorizationAttributes } from './types.ts';

const quote = (s: string): string => JSON.stringify(s);

/** responsewriters.forbiddenMessage: the "User ... cannot ..." sentence. */
export function forbiddenReason(attributes: AuthorizationAttributes): string {
  const user = quote(attributes.user.username);
  if (!attributes.resourceRequest) return `User ${user} cannot ${attributes.verb} path ${quote(attributes.path)}`;
  const resource = attributes.subresource ? `${attributes.resource}/${attributes.subresource}` : attributes.resource;
  const scope = attributes.namespace ? `in the namespace ${quote(attributes.namespace)}` : 'at the cluster scope';
  return `User ${user} cannot ${attributes.verb} resource ${quote(resource)} in API group ${quote(attributes.apiGroup)} ${scope}`;
}

/**
 * The whole message of the Forbidden Status, e.g.
 * `pods "web" is forbidden: User "x" cannot get resource "pods" in API group "" in the namespace "lab"`.
 * A non-empty authorizer reason (such as an RBAC evaluation error) is appended after a colon.
 */
export function forbiddenMessage(attributes: AuthorizationAttributes, reason = ''): string {
  const detail = reason ? `${forbiddenReason(attributes)}: ${reason}` : forbiddenReason(attributes);
  const gr = { group: attributes.apiGroup, resource: attributes.resource };
  if (gr.group === '' && gr.resource === '') return `forbidden: ${detail}`;
  const qualified = qualifiedResource(gr);
  return attributes.name ? `${qualified} ${quote(attributes.name)} is forbidden: ${detail}` : `${qualified} is forbidden: ${detail}`;
}

/** The 403 StatusError the API server answers with. */
export function forbiddenError(attributes: AuthorizationAttributes, reason = ''): StatusError {
  const gr = { group: attributes.apiGroup, resource: attributes.resource };
  return statusErrors.forbidden(forbiddenMessage(attributes, reason), gr.group === '' && gr.resource === '' ? undefined : gr, attributes.name || undefined);
}
