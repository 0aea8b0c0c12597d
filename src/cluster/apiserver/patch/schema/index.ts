// Which kinds have a table: the built-in kinds the embedded cluster serves. A kind without one
// (a custom resource) gets no strategic merge patch, exactly as upstream answers 415 for CRDs.
import { apiextensionsKinds, authenticationKinds, authorizationKinds, autoscalingV1Kinds, autoscalingV2Kinds, coordinationKinds, discoveryKinds, networkingKinds, policyKinds, rbacKinds, storageKinds } from './cluster.ts';
import { coreKinds } from './core.ts';
import { objectMeta } from './meta.ts';
import { kind, type StructShape } from './shape.ts';
import { appsKinds, batchKinds } from './workloads.ts';

export interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

const byGroupVersion: Record<string, Record<string, StructShape>> = {
  '/v1': coreKinds,
  'apps/v1': appsKinds,
  'batch/v1': batchKinds,
  'networking.k8s.io/v1': networkingKinds,
  'rbac.authorization.k8s.io/v1': rbacKinds,
  'autoscaling/v2': autoscalingV2Kinds,
  'autoscaling/v1': autoscalingV1Kinds,
  'policy/v1': policyKinds,
  'discovery.k8s.io/v1': discoveryKinds,
  'coordination.k8s.io/v1': coordinationKinds,
  'storage.k8s.io/v1': storageKinds,
  'apiextensions.k8s.io/v1': apiextensionsKinds,
  'authorization.k8s.io/v1': authorizationKinds,
  'authentication.k8s.io/v1': authenticationKinds,
};

/** The table for a built-in kind, or undefined for kinds (custom resources) without one. */
export function builtinShape(gvk: GroupVersionKind): StructShape | undefined {
  const kinds = byGroupVersion[`${gvk.group}/${gvk.version}`];
  return kinds && Object.hasOwn(kinds, gvk.kind) ? kinds[gvk.kind] : undefined;
}

/** What apply uses for a kind without a table: object metadata known, everything else deduced. */
export const customResourceShape: StructShape = kind({}, objectMeta);

export function supportsStrategicMergePatch(gvk: GroupVersionKind): boolean {
  return builtinShape(gvk) !== undefined;
}

export * from './shape.ts';
export { shapeFromOpenAPISchema } from './openapi.ts';
