// apps/v1 and batch/v1: controllers whose spec.template is a pod template.
import { conditions, labelSelector, objectMeta, objectReference } from './meta.ts';
import { persistentVolumeClaimSpec, podTemplateSpec } from './pod.ts';
import { atomicList, deduced, kind, mergeList, present, setList, struct, type Field, type StructShape } from './shape.ts';

const withConditions = present(struct({ conditions: conditions() }));

/** DeploymentSpec.strategy is patchStrategy=retainKeys: kubectl apply sends $retainKeys for it. */
const deploymentStrategy: Field = present(struct({ rollingUpdate: struct() }));

const jobSpec = struct({
  selector: labelSelector,
  template: present(podTemplateSpec),
  podFailurePolicy: struct({ rules: atomicList(struct({ onExitCodes: struct({ values: setList() }) })) }),
  scheduling: struct({ resourceClaims: mergeList(deduced, 'name') }),
});

export const appsKinds: Record<string, StructShape> = {
  Deployment: kind(
    {
      spec: present(struct({ selector: labelSelector, template: present(podTemplateSpec), strategy: deploymentStrategy })),
      status: withConditions,
    },
    objectMeta,
  ),
  ReplicaSet: kind({ spec: present(struct({ selector: labelSelector, template: present(podTemplateSpec) })), status: withConditions }, objectMeta),
  StatefulSet: kind(
    {
      spec: present(
        struct({
          selector: labelSelector,
          template: present(podTemplateSpec),
          volumeClaimTemplates: atomicList(struct({ metadata: present(objectMeta), spec: present(persistentVolumeClaimSpec) })),
          updateStrategy: present(struct()),
        }),
      ),
      status: withConditions,
    },
    objectMeta,
  ),
  DaemonSet: kind(
    { spec: present(struct({ selector: labelSelector, template: present(podTemplateSpec), updateStrategy: present(struct()) })), status: withConditions },
    objectMeta,
  ),
  ControllerRevision: kind({}, objectMeta),
};

export const batchKinds: Record<string, StructShape> = {
  Job: kind(
    {
      spec: present(jobSpec),
      // JobStatus.conditions merge by type in strategic merge patch but are atomic for apply.
      status: present(struct({ conditions: mergeList(deduced, 'type', { applyAtomic: true }), uncountedTerminatedPods: struct({ succeeded: setList(), failed: setList() }) })),
    },
    objectMeta,
  ),
  CronJob: kind(
    {
      spec: present(struct({ jobTemplate: present(struct({ metadata: present(objectMeta), spec: present(jobSpec) })) })),
      status: present(struct({ active: atomicList(objectReference) })),
    },
    objectMeta,
  ),
};
