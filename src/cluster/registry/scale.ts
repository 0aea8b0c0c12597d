// The scale subresource's view of an object (autoscaling/v1 Scale): spec and status replicas read
// where the resource's strategy says (as CRDs declare specReplicasPath and statusReplicasPath).
import type { KubeObject } from '../types.ts';
import type { Json } from '../json.ts';
import { deepFreeze, getPath } from './fields.ts';
import type { ResourceDefinition } from './interface.ts';
import type { ResourceStrategy } from './strategy.ts';

export function toScale(object: KubeObject, strategy: ResourceStrategy, def: ResourceDefinition): KubeObject {
  const paths = strategy.scale as NonNullable<ResourceStrategy['scale']>;
  const strip = (p: string) => p.replace(/^\./, '');
  const selector = paths.selector?.(object);
  const status: Json = { replicas: getPath(object, strip(paths.statusReplicasPath)) ?? 0 };
  if (selector) status.selector = selector;
  return deepFreeze({
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: object.metadata.name,
      namespace: def.namespaced ? object.metadata.namespace : undefined,
      uid: object.metadata.uid,
      resourceVersion: object.metadata.resourceVersion,
      creationTimestamp: object.metadata.creationTimestamp,
    },
    spec: { replicas: getPath(object, strip(paths.specReplicasPath)) ?? 0 },
    status,
  } as KubeObject);
}
