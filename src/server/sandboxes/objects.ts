// The objects that make a sandbox, as plain manifests: the Namespace, the learner's
// ServiceAccount and what it may do, the budget, the network fence and the workbench pod.
import type { KubeObject, Lab, RbacRule } from '../../labs/index.ts';
import { parseQuantity } from '../../labs/index.ts';
import { LABEL_MANAGED_BY, LABEL_SANDBOX, LEARNER_SERVICE_ACCOUNT, MANAGED_BY, WORKBENCH_CONTAINER, WORKBENCH_POD } from './labels.ts';

/**
 * The workbench's own share of the namespace budget, added on top of the lab's so the learner gets all of it.
 * Its ephemeral storage (HOME, /tmp) is 1 GiB: past that the kubelet evicts it, as Kubernetes does.
 */
export const WORKBENCH_RESOURCES = {
  requests: { cpu: '100m', memory: '256Mi', 'ephemeral-storage': '64Mi' },
  limits: { cpu: '1', memory: '1Gi', 'ephemeral-storage': '1Gi' },
};

/**
 * Defaults for containers that say nothing: small enough that the lab's budget (2 CPUs by default)
 * holds ten pods, so `kubectl scale --replicas=5` works without a lesson on resources first.
 */
/**
 * Disk a sandbox may claim, beside the lab's CPU and memory: its pods' ephemeral-storage limits
 * together (the workbench's 1 GiB on top) and its PersistentVolumeClaims' requests. The kubelet
 * gives each pod and claim a file system of about that size, so these bound what a learner can
 * write to the host.
 */
export const DISK_BUDGET = { ephemeralStorageLimits: '4Gi', claimRequests: '2Gi' };

export const CONTAINER_DEFAULTS = {
  defaultRequest: { cpu: '50m', memory: '64Mi', 'ephemeral-storage': '16Mi' },
  default: { cpu: '200m', memory: '128Mi', 'ephemeral-storage': '512Mi' },
};

/**
 * How many objects of each kind a learner may keep, so a loop of `kubectl create` meets a quota
 * long before the cluster's memory (each is several times what any lab needs; the sandbox's own
 * objects — the learner's ServiceAccount, RoleBindings, the kube-root-ca.crt ConfigMap — count
 * too). Pods and Services come from the lab's quota; ReplicaSets, Endpoints and Events are the
 * cluster's own bookkeeping and are left to the byte budget of the namespace.
 */
export const OBJECT_COUNTS: Record<string, string> = {
  configmaps: '50',
  secrets: '50',
  persistentvolumeclaims: '10',
  replicationcontrollers: '10',
  'count/serviceaccounts': '20',
  'count/deployments.apps': '20',
  'count/statefulsets.apps': '10',
  'count/daemonsets.apps': '10',
  'count/jobs.batch': '30',
  'count/cronjobs.batch': '10',
  'count/horizontalpodautoscalers.autoscaling': '10',
  'count/poddisruptionbudgets.policy': '10',
  'count/ingresses.networking.k8s.io': '10',
  'count/networkpolicies.networking.k8s.io': '20',
  'count/roles.rbac.authorization.k8s.io': '20',
  'count/rolebindings.rbac.authorization.k8s.io': '20',
};

const WORKBENCH_HOME = '/home/learner';
/** The learner's uid and gid in the workbench image. */
const WORKBENCH_UID = 1000;
/** The embedded cluster's kubelet knows this image; on a real cluster, an image built from deploy/ takes its place. */
export const DEFAULT_WORKBENCH_IMAGE = 'formicary/workbench:1.0';

function managed(namespace: string, name: string, kind: string, apiVersion: string, extra: Record<string, unknown>): KubeObject {
  return { apiVersion, kind, metadata: { name, namespace, labels: { [LABEL_MANAGED_BY]: MANAGED_BY } }, ...extra };
}

/** "2" + "1" → "3", "2Gi" + "1Gi" → "3221225472": the sum as a plain quantity the server accepts. */
function add(a: string, b: string): string {
  const sum = (parseQuantity(a) ?? 0) + (parseQuantity(b) ?? 0);
  // Milli-units keep CPU sums such as 2.1 exact; bytes are whole numbers already.
  return Number.isInteger(sum) ? String(sum) : `${Math.round(sum * 1000)}m`;
}

/**
 * The Pod Security labels of a sandbox: the lab's level is enforced, and warned and audited at
 * the same level so kubectl shows what a workload template would have refused.
 */
export function podSecurityLabels(level: Lab['podSecurity']): Record<string, string> {
  return { 'pod-security.kubernetes.io/enforce': level, 'pod-security.kubernetes.io/warn': level, 'pod-security.kubernetes.io/audit': level };
}

export function namespaceManifest(name: string, labels: Record<string, string>, annotations: Record<string, string>): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { ...labels, [LABEL_MANAGED_BY]: MANAGED_BY }, annotations } };
}

/** The ClusterRole and ClusterRoleBinding of a sandbox's cluster-scoped extras share this name. */
export function clusterAccessName(namespace: string): string {
  return `formicary:sandbox:${namespace}`;
}

/** Everything but the Namespace and the workbench, in no particular order (created side by side). */
export function accessAndBudget(namespace: string, lab: Lab): KubeObject[] {
  const subject = { kind: 'ServiceAccount', name: LEARNER_SERVICE_ACCOUNT, namespace };
  const rule = (r: RbacRule) => ({ apiGroups: r.apiGroups, resources: r.resources, verbs: r.verbs, ...(r.resourceNames ? { resourceNames: r.resourceNames } : {}) });
  const namespaced = lab.rbac.filter((r) => r.scope === 'namespace');
  const clusterWide = lab.rbac.filter((r) => r.scope === 'cluster');
  const objects: KubeObject[] = [
    managed(namespace, LEARNER_SERVICE_ACCOUNT, 'ServiceAccount', 'v1', {}),
    managed(namespace, 'learner-edit', 'RoleBinding', 'rbac.authorization.k8s.io/v1', {
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
      subjects: [subject],
    }),
    managed(namespace, 'lab-budget', 'ResourceQuota', 'v1', {
      spec: {
        hard: {
          'requests.cpu': add(lab.quota.cpu, WORKBENCH_RESOURCES.requests.cpu),
          'limits.cpu': add(lab.quota.cpu, WORKBENCH_RESOURCES.limits.cpu),
          'requests.memory': add(lab.quota.memory, WORKBENCH_RESOURCES.requests.memory),
          'limits.memory': add(lab.quota.memory, WORKBENCH_RESOURCES.limits.memory),
          'limits.ephemeral-storage': add(DISK_BUDGET.ephemeralStorageLimits, WORKBENCH_RESOURCES.limits['ephemeral-storage']),
          'requests.storage': DISK_BUDGET.claimRequests,
          pods: String(lab.quota.pods + 1),
          services: String(lab.quota.services),
          ...OBJECT_COUNTS,
        },
      },
    }),
    managed(namespace, 'lab-defaults', 'LimitRange', 'v1', {
      spec: { limits: [{ type: 'Container', defaultRequest: CONTAINER_DEFAULTS.defaultRequest, default: CONTAINER_DEFAULTS.default }] },
    }),
    managed(namespace, 'same-namespace-only', 'NetworkPolicy', 'networking.k8s.io/v1', {
      spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: {} }] }] },
    }),
  ];
  if (namespaced.length) {
    objects.push(
      managed(namespace, 'learner-extra', 'Role', 'rbac.authorization.k8s.io/v1', { rules: namespaced.map(rule) }),
      managed(namespace, 'learner-extra', 'RoleBinding', 'rbac.authorization.k8s.io/v1', {
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'learner-extra' },
        subjects: [subject],
      }),
    );
  }
  if (clusterWide.length) {
    const name = clusterAccessName(namespace);
    const labels = { [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_SANDBOX]: namespace };
    objects.push(
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name, labels }, rules: clusterWide.map(rule) },
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRoleBinding',
        metadata: { name, labels },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
        subjects: [subject],
      },
    );
  }
  return objects;
}

/**
 * In a cluster of the learner's own (needs: cluster): the learner's ServiceAccount, bound to
 * `cluster-admin` across the cluster. Nodes, CRDs and cluster-wide RBAC are the lesson there, and
 * nobody else's work is in that cluster to protect.
 */
export function clusterAdminAccess(namespace: string): KubeObject[] {
  return [
    managed(namespace, LEARNER_SERVICE_ACCOUNT, 'ServiceAccount', 'v1', {}),
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'formicary:learner-cluster-admin', labels: { [LABEL_MANAGED_BY]: MANAGED_BY } },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
      subjects: [{ kind: 'ServiceAccount', name: LEARNER_SERVICE_ACCOUNT, namespace }],
    },
  ];
}

/**
 * The learner's terminal: a `formicary/workbench` pod running as the learner's ServiceAccount,
 * HOME on an emptyDir so shell history and files live as long as the sandbox.
 */
export function workbenchPod(namespace: string, image = DEFAULT_WORKBENCH_IMAGE): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: WORKBENCH_POD,
      namespace,
      labels: { [LABEL_MANAGED_BY]: MANAGED_BY, 'app.kubernetes.io/name': 'workbench', 'formicary.dev/role': 'workbench' },
      annotations: { 'kubernetes.io/description': 'Your terminal. Deleting this pod closes it; "Reset lab" brings a fresh one.' },
    },
    spec: {
      // What the restricted Pod Security level asks: no root, no privilege escalation, no
      // capabilities, the runtime's seccomp profile. The group owns HOME on a real cluster.
      securityContext: { runAsNonRoot: true, runAsUser: WORKBENCH_UID, runAsGroup: WORKBENCH_UID, fsGroup: WORKBENCH_UID, seccompProfile: { type: 'RuntimeDefault' } },
      serviceAccountName: LEARNER_SERVICE_ACCOUNT,
      automountServiceAccountToken: true,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: WORKBENCH_CONTAINER,
          image,
          stdin: true,
          tty: true,
          workingDir: WORKBENCH_HOME,
          resources: WORKBENCH_RESOURCES,
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          volumeMounts: [{ name: 'home', mountPath: WORKBENCH_HOME }],
        },
      ],
      volumes: [{ name: 'home', emptyDir: {} }],
    },
  };
}
