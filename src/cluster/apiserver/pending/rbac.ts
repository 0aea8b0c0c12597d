// Interim: system:masters may do everything; every authenticated user may discover and ask about itself.
import type { UserInfo } from '../../registry/index.ts';

export interface AuthorizationAttributes {
  user: UserInfo;
  verb: string;
  isResourceRequest: boolean;
  path: string;
  namespace: string;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  name: string;
}

export interface Decision {
  allowed: boolean;
  reason: string;
}

const selfReviews = new Set(['selfsubjectaccessreviews', 'selfsubjectrulesreviews', 'selfsubjectreviews']);

export function authorize(attributes: AuthorizationAttributes): Decision {
  if (attributes.user.groups.includes('system:masters')) return { allowed: true, reason: '' };
  if (!attributes.user.groups.includes('system:authenticated')) return { allowed: false, reason: '' };
  if (!attributes.isResourceRequest && attributes.verb === 'get') {
    const path = attributes.path;
    if (path === '/api' || path.startsWith('/api/') || path === '/apis' || path.startsWith('/apis/') || path === '/version' || path.startsWith('/openapi/') || path === '/healthz' || path === '/livez' || path === '/readyz') {
      return { allowed: true, reason: '' };
    }
  }
  if (attributes.isResourceRequest && attributes.verb === 'create' && selfReviews.has(attributes.resource)) return { allowed: true, reason: '' };
  return { allowed: false, reason: '' };
}

export function rulesReview(_user: UserInfo, _namespace: string): { resourceRules: unknown[]; nonResourceRules: unknown[]; incomplete: boolean; evaluationError?: string } {
  return { resourceRules: [], nonResourceRules: [], incomplete: true };
}
