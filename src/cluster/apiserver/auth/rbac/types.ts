// The RBAC vocabulary as plain JSON shapes, validated where objects come in from the registry.
import { z } from 'zod';
import type { KubeObject } from '../../../types.ts';
import type { UserInfo } from '../../../registry/index.ts';

export type { UserInfo } from '../../../registry/index.ts';

export const policyRuleSchema = z.object({
  verbs: z.array(z.string()).default([]),
  apiGroups: z.array(z.string()).optional(),
  resources: z.array(z.string()).optional(),
  resourceNames: z.array(z.string()).optional(),
  nonResourceURLs: z.array(z.string()).optional(),
});
export type PolicyRule = z.infer<typeof policyRuleSchema>;

export const subjectSchema = z.object({
  kind: z.string(),
  name: z.string(),
  namespace: z.string().optional(),
  apiGroup: z.string().optional(),
});
export type Subject = z.infer<typeof subjectSchema>;

export const roleRefSchema = z.object({ apiGroup: z.string().optional(), kind: z.string(), name: z.string() });
export type RoleRef = z.infer<typeof roleRefSchema>;

const labelSelectorRequirementSchema = z.object({ key: z.string(), operator: z.string(), values: z.array(z.string()).optional() });
export const labelSelectorSchema = z.object({
  matchLabels: z.record(z.string(), z.string()).optional(),
  matchExpressions: z.array(labelSelectorRequirementSchema).optional(),
});
export type LabelSelector = z.infer<typeof labelSelectorSchema>;

export const roleSchema = z.object({
  metadata: z.object({ name: z.string().default(''), namespace: z.string().optional(), labels: z.record(z.string(), z.string()).optional() }).loose(),
  rules: z.array(policyRuleSchema).nullish(),
  aggregationRule: z.object({ clusterRoleSelectors: z.array(labelSelectorSchema).nullish() }).nullish(),
});
export type Role = z.infer<typeof roleSchema>;

export const bindingSchema = z.object({
  metadata: z.object({ name: z.string().default(''), namespace: z.string().optional() }).loose(),
  roleRef: roleRefSchema,
  subjects: z.array(subjectSchema).nullish(),
});
export type Binding = z.infer<typeof bindingSchema>;

/** Where RBAC objects come from: the apiserver passes the registry's current data. */
export interface RbacSource {
  roles(namespace: string): KubeObject[];
  clusterRoles(): KubeObject[];
  roleBindings(namespace: string): KubeObject[];
  clusterRoleBindings(): KubeObject[];
}

/** authorizer.Attributes: what a request asks to do. */
export interface AuthorizationAttributes {
  user: UserInfo;
  verb: string;
  /** false for non-resource URLs such as /healthz or /version */
  resourceRequest: boolean;
  apiGroup: string;
  apiVersion?: string;
  resource: string;
  subresource: string;
  name: string;
  namespace: string;
  /** request path, matched against nonResourceURLs */
  path: string;
}

export interface AuthorizationDecision {
  allowed: boolean;
  /** "RBAC: allowed by ..." when allowed; when denied, empty or the evaluation errors */
  reason: string;
}

export interface ResourceRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}

export interface NonResourceRule {
  verbs: string[];
  nonResourceURLs?: string[];
}

/** SubjectRulesReviewStatus of a SelfSubjectRulesReview. */
export interface RulesReview {
  resourceRules: ResourceRule[];
  nonResourceRules: NonResourceRule[];
  incomplete: boolean;
  evaluationError?: string;
}
