// The pod template and everything it is made of (core/v1 PodSpec, Container, Volume), the part
// of the table kubectl apply and kubectl set exercise most.
import { conditions, labelSelector, objectMeta, objectReference } from './meta.ts';
import { atomicMap, atomicStruct, deduced, keyedList, mergeList, present, setList, struct } from './shape.ts';

const envVar = struct({
  valueFrom: struct({
    fieldRef: atomicStruct(),
    resourceFieldRef: atomicStruct(),
    configMapKeyRef: atomicStruct(),
    secretKeyRef: atomicStruct(),
    fileKeyRef: atomicStruct(),
  }),
});

export const resourceRequirements = struct({ claims: keyedList(deduced, ['name']) });

const containerFields = {
  ports: mergeList(deduced, 'containerPort', { keys: ['containerPort', { name: 'protocol', default: 'TCP' }] }),
  env: mergeList(envVar, 'name'),
  resources: present(resourceRequirements),
  volumeMounts: mergeList(struct({ bindMountOptions: setList() }), 'mountPath'),
  volumeDevices: mergeList(deduced, 'devicePath'),
};

export const container = struct(containerFields);

export const persistentVolumeClaimSpec = struct({
  selector: labelSelector,
  resources: present(struct()),
  dataSource: atomicStruct(),
});

/** Volumes are merge,retainKeys by name; their sources hold a few atomic references. */
const volume = struct({
  ephemeral: struct({
    volumeClaimTemplate: struct({ metadata: present(objectMeta), spec: present(persistentVolumeClaimSpec) }),
  }),
  iscsi: struct({ secretRef: objectReference }),
  rbd: struct({ secretRef: objectReference }),
  flexVolume: struct({ secretRef: objectReference }),
  cinder: struct({ secretRef: objectReference }),
  cephfs: struct({ secretRef: objectReference }),
  scaleIO: struct({ secretRef: objectReference }),
  storageos: struct({ secretRef: objectReference }),
  csi: struct({ nodePublishSecretRef: objectReference }),
});

const nodeSelector = atomicStruct();

const affinity = struct({
  nodeAffinity: struct({ requiredDuringSchedulingIgnoredDuringExecution: nodeSelector }),
});

export const podSpec = struct({
  volumes: mergeList(volume, 'name'),
  initContainers: mergeList(container, 'name'),
  containers: present(mergeList(container, 'name')),
  ephemeralContainers: mergeList(container, 'name'),
  nodeSelector: atomicMap(),
  imagePullSecrets: mergeList(objectReference, 'name'),
  affinity,
  hostAliases: mergeList(deduced, 'ip'),
  topologySpreadConstraints: mergeList(struct({ labelSelector }), 'topologyKey', { keys: ['topologyKey', 'whenUnsatisfiable'] }),
  schedulingGates: mergeList(deduced, 'name'),
  resourceClaims: mergeList(deduced, 'name'),
  resources: resourceRequirements,
});

export const podStatus = struct({
  conditions: conditions(),
  hostIPs: mergeList(deduced, 'ip', { applyAtomic: true }),
  podIPs: mergeList(deduced, 'ip'),
  resourceClaimStatuses: mergeList(deduced, 'name'),
});

export const podTemplateSpec = struct({
  metadata: present(objectMeta),
  spec: present(podSpec),
});
