// Shapes shared by every kind (meta.k8s.io/v1), from upstream's struct tags and list markers.
import { atomicList, atomicStruct, mapOf, mergeList, mergeSet, struct, type Field } from './shape.ts';

export const objectMeta = struct({
  labels: mapOf(),
  annotations: mapOf(),
  ownerReferences: mergeList(atomicStruct(), 'uid'),
  finalizers: mergeSet(),
  managedFields: atomicList(),
});

/** metav1.LabelSelector is structType=atomic: apply owns a selector as one value. */
export const labelSelector = atomicStruct();

/** corev1.ObjectReference and LocalObjectReference are structType=atomic. */
export const objectReference = atomicStruct();

/** Status conditions: merged by type in both flavours. */
export function conditions(): Field {
  return mergeList(struct(), 'type');
}
