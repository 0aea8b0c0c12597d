// Who a pod's processes are inside: the securityContext's runAsUser and runAsGroup, else the
// image's user (root in the images with a root file system of their own, as busybox and alpine
// are built; the learner's uid 1000 where the host's tools stand in for the image). The pod
// sandbox maps one user a pod, so the pod's first container that says decides for the pod.
import type { KubeObject } from '../types.ts';
import { type Json, num, obj, objects, specOf, str } from '../json.ts';
import { resolveImage, rootFilesystemOf } from './images/index.ts';
import { INSIDE_GID, INSIDE_UID, type InsideUser } from './sandbox/index.ts';

/** Whether the image runs as root by default (it has a root file system of its own, built as root's). */
export function imageRunsAsRoot(image: string | undefined): boolean {
  if (image === undefined) return false;
  const resolved = resolveImage(image);
  return resolved.outcome === 'available' && rootFilesystemOf(resolved.image) !== undefined;
}

function effective(pod: KubeObject, container: Json, field: 'runAsUser' | 'runAsGroup' | 'runAsNonRoot'): unknown {
  const own = obj(container['securityContext'])[field];
  return own !== undefined ? own : obj(specOf(pod)['securityContext'])[field];
}

/** The pod's user and group inside its user namespace. */
export function podUser(pod: KubeObject): InsideUser {
  const spec = specOf(pod);
  const containers = [...objects(spec['containers']), ...objects(spec['initContainers'])];
  const first = <T>(pick: (container: Json) => T | undefined): T | undefined => containers.map(pick).find((value) => value !== undefined);
  const uid = first((container) => num(effective(pod, container, 'runAsUser')));
  const gid = first((container) => num(effective(pod, container, 'runAsGroup')));
  const rooted = containers.some((container) => imageRunsAsRoot(str(container['image'])));
  const image = rooted ? { uid: 0, gid: 0 } : { uid: INSIDE_UID, gid: INSIDE_GID };
  // A runAsUser without runAsGroup keeps the image's group; for a uid the image does not list, that is root's (0).
  return { uid: uid ?? image.uid, gid: gid ?? (uid !== undefined && rooted ? 0 : image.gid) };
}

/** verifyRunAsNonRoot: the kubelet refuses to start a container that runAsNonRoot forbids; undefined when it may start. */
export function runAsNonRootRefusal(pod: KubeObject, container: Json, podDescription: string): string | undefined {
  if (effective(pod, container, 'runAsNonRoot') !== true) return undefined;
  const name = str(container['name']) ?? '';
  const uid = num(effective(pod, container, 'runAsUser'));
  if (uid !== undefined) return uid === 0 ? `container's runAsUser breaks non-root policy (pod: "${podDescription}", container: ${name})` : undefined;
  if (imageRunsAsRoot(str(container['image']))) return `container has runAsNonRoot and image will run as root (pod: "${podDescription}", container: ${name})`;
  return undefined;
}
