// Public face of RBAC for the API server: the authorizer with Kubernetes' semantics, rules
// reviews, the exact Forbidden messages, impersonation checks and the default cluster policy.
export { authorize, rulesReview } from './rbac/authorizer.ts';
export { preventEscalation, type RbacWrite } from './rbac/escalation.ts';
export { aggregatedClusterRoleRules, labelSelectorMatches } from './rbac/aggregation.ts';
export { bootstrapClusterRoleBindings, bootstrapClusterRoles, bootstrapControllerRoleBindings, bootstrapControllerRoles } from './rbac/bootstrap.ts';
export { reconcileClusterRole, reconcileClusterRoleBinding, type Reconciliation } from './rbac/reconciliation.ts';
export { impersonate, impersonationFromHeaders, type ImpersonationRequest } from './rbac/impersonation.ts';
export { forbiddenError, forbiddenMessage, forbiddenReason } from './rbac/messages.ts';
export { ruleAllows } from './rbac/rules.ts';
export {
  allServiceAccountsGroup,
  anonymousUser,
  authenticatedGroup,
  mastersGroup,
  serviceAccountGroups,
  serviceAccountUsername,
  splitServiceAccountUsername,
  unauthenticatedGroup,
} from './rbac/subjects.ts';
export type {
  AuthorizationAttributes,
  AuthorizationDecision,
  NonResourceRule,
  PolicyRule,
  RbacSource,
  ResourceRule,
  RulesReview,
  UserInfo,
} from './rbac/types.ts';
