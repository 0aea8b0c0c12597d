// The remaining groups the embedded cluster serves: networking, RBAC, autoscaling, policy,
// discovery, coordination, storage, apiextensions and the review kinds.
import { conditions, labelSelector, objectMeta } from './meta.ts';
import { atomicStruct, deduced, keyedList, kind, mapOf, present, replaced, struct, type StructShape } from './shape.ts';

export const networkingKinds: Record<string, StructShape> = {
  Ingress: kind({ spec: present(struct({ defaultBackend: struct({ service: struct({ port: atomicStruct() }), resource: atomicStruct() }) })), status: present(struct({ loadBalancer: present(struct()) })) }, objectMeta),
  IngressClass: kind({ spec: present(struct()) }, objectMeta),
  NetworkPolicy: kind({ spec: present(struct({ podSelector: present(labelSelector) })) }, objectMeta),
};

const binding = kind({ roleRef: present(atomicStruct()) }, objectMeta);

export const rbacKinds: Record<string, StructShape> = {
  Role: kind({}, objectMeta),
  ClusterRole: kind({}, objectMeta),
  RoleBinding: binding,
  ClusterRoleBinding: binding,
};

export const autoscalingV2Kinds: Record<string, StructShape> = {
  HorizontalPodAutoscaler: kind(
    {
      spec: present(struct({ scaleTargetRef: present(struct()) })),
      status: present(struct({ conditions: conditions() })),
    },
    objectMeta,
  ),
};

export const autoscalingV1Kinds: Record<string, StructShape> = {
  HorizontalPodAutoscaler: kind({ spec: present(struct({ scaleTargetRef: present(atomicStruct()) })), status: present(struct()) }, objectMeta),
  Scale: kind({ spec: present(struct()), status: present(struct()) }, objectMeta),
};

export const policyKinds: Record<string, StructShape> = {
  PodDisruptionBudget: kind(
    {
      // The selector is patchStrategy=replace: a strategic merge patch swaps it whole.
      spec: present(struct({ selector: replaced(labelSelector) })),
      status: present(struct({ disruptedPods: mapOf(), conditions: conditions() })),
    },
    objectMeta,
  ),
  Eviction: kind({}, objectMeta),
};

export const discoveryKinds: Record<string, StructShape> = {
  EndpointSlice: kind({}, objectMeta),
};

export const coordinationKinds: Record<string, StructShape> = {
  Lease: kind({ spec: present(struct()) }, objectMeta),
};

export const storageKinds: Record<string, StructShape> = {
  StorageClass: kind({ parameters: mapOf() }, objectMeta),
};

export const apiextensionsKinds: Record<string, StructShape> = {
  CustomResourceDefinition: kind(
    {
      spec: present(struct({ names: present(struct()) })),
      // Conditions are listType=map by type with no patch strategy: apply merges, strategic replaces.
      status: present(struct({ conditions: keyedList(deduced, ['type']), acceptedNames: present(struct()) })),
    },
    objectMeta,
  ),
};

const review = kind({ spec: present(struct()), status: present(struct()) }, objectMeta);

export const authorizationKinds: Record<string, StructShape> = {
  SubjectAccessReview: review,
  SelfSubjectAccessReview: review,
  LocalSubjectAccessReview: review,
  SelfSubjectRulesReview: review,
};

export const authenticationKinds: Record<string, StructShape> = {
  TokenReview: review,
  SelfSubjectReview: kind({ status: present(struct()) }, objectMeta),
  TokenRequest: review,
};
