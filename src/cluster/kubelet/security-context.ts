// Who a pod's processes are inside: the securityContext's runAsUser and runAsGroup, else the
// image's user (root in the images with a root file system of their own, as busybox and alpine
// are built; the learner's uid 1000 where the host's tools stand in for the image). The pod
// sandbox maps one user a pod, so the pod's first container that says decides for the pod.
import type { KubeObject } from '../types.ts';
import { type Json, num, obj, objects, specOf, str } from '../json.ts';
import { imageGroupsOf, resolveImage, rootFilesystemOf } from './images/index.ts';
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

/**
 * The pod's supplementary groups beyond its primary group, in the order the runtime gives them:
 * the image's /etc/group memberships of the user (containerd's WithAdditionalGIDs; not with
 * supplementalGroupsPolicy Strict), then fsGroup and supplementalGroups, as the kubelet hands them
 * over (determineEffectiveSecurityContext).
 */
export function podSupplementalGroups(pod: KubeObject, user: InsideUser): number[] {
  const spec = specOf(pod);
  const context = obj(spec['securityContext']);
  const fsGroup = num(context['fsGroup']);
  const supplemental = Array.isArray(context['supplementalGroups']) ? context['supplementalGroups'].map(num).filter((gid): gid is number => gid !== undefined) : [];
  const image = str(context['supplementalGroupsPolicy']) === 'Strict' ? [] : imageGroups(pod, user.uid);
  return [...new Set([...image, ...(fsGroup !== undefined ? [fsGroup] : []), ...supplemental])].filter((gid) => gid !== user.gid);
}

/** The memberships in the /etc/group of the pod's first image with a root file system of its own (the host's tools list none). */
function imageGroups(pod: KubeObject, uid: number): number[] {
  const spec = specOf(pod);
  for (const container of [...objects(spec['initContainers']), ...objects(spec['containers'])]) {
    const image = str(container['image']);
    const resolved = image === undefined ? undefined : resolveImage(image);
    const kind = resolved?.outcome === 'available' ? rootFilesystemOf(resolved.image) : undefined;
    if (kind) return imageGroupsOf(kind, uid);
  }
  return [];
}

/** The pod's fsGroup: the group its volumes' files belong to. */
export function podFsGroup(pod: KubeObject): number | undefined {
  return num(obj(specOf(pod)['securityContext'])['fsGroup']);
}
