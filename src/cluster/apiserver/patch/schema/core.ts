// core/v1 kinds other than the pod's insides.
import { conditions, objectMeta, objectReference } from './meta.ts';
import { persistentVolumeClaimSpec, podSpec, podStatus, podTemplateSpec } from './pod.ts';
import { atomicMap, atomicStruct, deduced, kind, mapOf, mergeList, mergeSet, present, struct, type StructShape } from './shape.ts';

const withConditions = struct({ conditions: conditions() });

export const coreKinds: Record<string, StructShape> = {
  Pod: kind({ spec: present(podSpec), status: present(podStatus) }, objectMeta),
  PodTemplate: kind({ template: present(podTemplateSpec) }, objectMeta),
  ReplicationController: kind({ spec: present(struct({ selector: mapOf(), template: podTemplateSpec })), status: present(withConditions) }, objectMeta),
  Service: kind(
    {
      spec: present(
        struct({
          ports: mergeList(deduced, 'port', { keys: ['port', { name: 'protocol', default: 'TCP' }] }),
          selector: atomicMap(),
        }),
      ),
      status: present(struct({ loadBalancer: present(struct()), conditions: conditions() })),
    },
    objectMeta,
  ),
  Endpoints: kind({}, objectMeta),
  ConfigMap: kind({ data: mapOf(), binaryData: mapOf() }, objectMeta),
  Secret: kind({ data: mapOf(), stringData: mapOf() }, objectMeta),
  ServiceAccount: kind({ secrets: mergeList(objectReference, 'name') }, objectMeta),
  Event: kind({ involvedObject: present(objectReference), related: objectReference, source: present(struct()) }, objectMeta),
  Namespace: kind({ spec: present(struct()), status: present(withConditions) }, objectMeta),
  Node: kind(
    {
      spec: present(struct({ podCIDRs: mergeSet() })),
      status: present(
        struct({
          conditions: conditions(),
          addresses: mergeList(deduced, 'type'),
          daemonEndpoints: present(struct({ kubeletEndpoint: present(struct()) })),
          nodeInfo: present(struct()),
        }),
      ),
    },
    objectMeta,
  ),
  PersistentVolume: kind(
    {
      spec: present(struct({ claimRef: struct(), nodeAffinity: struct({ required: atomicStruct() }) })),
      status: present(struct()),
    },
    objectMeta,
  ),
  PersistentVolumeClaim: kind({ spec: present(persistentVolumeClaimSpec), status: present(withConditions) }, objectMeta),
  ResourceQuota: kind({ spec: present(struct({ scopeSelector: atomicStruct() })), status: present(struct()) }, objectMeta),
  LimitRange: kind({ spec: present(struct()) }, objectMeta),
  Binding: kind({ target: present(objectReference) }, objectMeta),
};
