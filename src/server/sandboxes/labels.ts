// How a sandbox is written on its Namespace, so that any portal replica, and a portal restarted
// from nothing, finds every sandbox again by listing namespaces: labels for what is selected on
// (lab, learner, expiry, readiness), annotations for what people read.
import { createHash } from 'node:crypto';
import type { KubeObject } from '../../labs/index.ts';

export const LABEL_LAB = 'formicary.dev/lab';
export const LABEL_LEARNER = 'formicary.dev/learner';
export const LABEL_EXPIRES = 'formicary.dev/expires';
/** "true" once the workbench is Ready and the lab's setup ran. */
export const LABEL_READY = 'formicary.dev/ready';
/** Digest of the lab definition a sandbox was set up from; warm sandboxes of an older lab are not claimed. */
export const LABEL_LAB_DIGEST = 'formicary.dev/lab-digest';
/** On cluster-scoped objects (ClusterRole, ClusterRoleBinding): the sandbox namespace they belong to. */
export const LABEL_SANDBOX = 'formicary.dev/sandbox';
/** "dedicated" on the record of a sandbox that is a cluster of the learner's own (a lab with needs: cluster). */
export const LABEL_CLUSTER = 'formicary.dev/cluster';
export const DEDICATED = 'dedicated';
export const LABEL_MANAGED_BY = 'app.kubernetes.io/managed-by';
export const MANAGED_BY = 'formicary';

export const ANNOTATION_LEARNER_ID = 'formicary.dev/learner-id';
export const ANNOTATION_LAB_TITLE = 'formicary.dev/lab-title';
/** Unix seconds of the learner's last activity (terminal input, a check); the idle timeout counts from it. */
export const ANNOTATION_LAST_ACTIVITY = 'formicary.dev/last-activity';
export const ANNOTATION_CREATED = 'formicary.dev/created';
/** On the record of a dedicated sandbox: the DedicatedClusterHost whose process holds its cluster. */
export const ANNOTATION_CLUSTER_HOST = 'formicary.dev/cluster-host';

/** The learner label of a warm sandbox nobody has claimed yet. */
export const WARM = 'warm';

/** A label-safe stand-in for a learner id (ids may hold @, spaces, anything): 20 hex characters. */
export function learnerLabel(learnerId: string): string {
  return createHash('sha256').update(learnerId).digest('hex').slice(0, 20);
}

export function seconds(date: Date): string {
  return String(Math.floor(date.getTime() / 1000));
}

export function fromSeconds(value: string | undefined): Date | null {
  if (value === undefined || !/^\d+$/.test(value)) return null;
  return new Date(Number(value) * 1000);
}

/** A sandbox as the portal sees it, read back from its Namespace. */
export interface Sandbox {
  /** The sandbox's namespace; also its id. */
  namespace: string;
  labId: string;
  /** Digest of the lab version the sandbox was set up from. */
  labDigest: string;
  /** The learner's id as the portal knows it (null for a warm sandbox). */
  learnerId: string | null;
  /** The workbench pod whose shell is the learner's terminal. */
  workbench: { pod: string; container: string };
  /** The ServiceAccount the learner acts as (in the sandbox namespace). */
  serviceAccount: string;
  createdAt: Date;
  /** The sandbox is deleted at this time (the lab's time limit, or the default lifetime). */
  expiresAt: Date;
  /** Last terminal input or check; the idle timeout counts from here. */
  lastActivityAt: Date;
  /** The workbench is Ready and the lab's setup ran. */
  ready: boolean;
  /** The namespace is being deleted. */
  terminating: boolean;
  /**
   * The lab needs a cluster of its own: this Namespace is only the record, and the workbench runs in
   * a namespace of the same name in the learner's own cluster.
   */
  dedicated: boolean;
  /** Of a dedicated sandbox: the host that runs its cluster (null otherwise). */
  clusterHost: string | null;
}

export const WORKBENCH_POD = 'workbench';
export const WORKBENCH_CONTAINER = 'workbench';
export const LEARNER_SERVICE_ACCOUNT = 'learner';

/** Null when the namespace is not a Formicary sandbox. */
export function sandboxOf(namespace: KubeObject): Sandbox | null {
  const labels = namespace.metadata.labels ?? {};
  const annotations = namespace.metadata.annotations ?? {};
  const labId = labels[LABEL_LAB];
  const name = namespace.metadata.name;
  if (!labId || !name) return null;
  const created = fromSeconds(annotations[ANNOTATION_CREATED]) ?? new Date(namespace.metadata.creationTimestamp ?? 0);
  return {
    namespace: name,
    labId,
    labDigest: labels[LABEL_LAB_DIGEST] ?? '',
    learnerId: labels[LABEL_LEARNER] === WARM ? null : (annotations[ANNOTATION_LEARNER_ID] ?? null),
    workbench: { pod: WORKBENCH_POD, container: WORKBENCH_CONTAINER },
    serviceAccount: LEARNER_SERVICE_ACCOUNT,
    createdAt: created,
    expiresAt: fromSeconds(labels[LABEL_EXPIRES]) ?? created,
    lastActivityAt: fromSeconds(annotations[ANNOTATION_LAST_ACTIVITY]) ?? created,
    ready: labels[LABEL_READY] === 'true',
    terminating: typeof namespace.metadata.deletionTimestamp === 'string' || (namespace.status as { phase?: string } | undefined)?.phase === 'Terminating',
    dedicated: labels[LABEL_CLUSTER] === DEDICATED,
    clusterHost: labels[LABEL_CLUSTER] === DEDICATED ? (annotations[ANNOTATION_CLUSTER_HOST] ?? null) : null,
  };
}
