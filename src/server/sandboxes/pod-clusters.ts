// Labs with `needs: cluster` on a real lab cluster (LAB_CLUSTER=kubernetes): the learner's own
// cluster is a pod of the portal image running `formicary cluster` in their sandbox namespace,
// behind a Service, so nothing of it is cluster-wide on the company's cluster. The workbench is
// the usual one, in the same namespace, with KUBECONFIG pointing at that Service (a Secret holds
// the learner cluster's admin kubeconfig); its kubectl talks to the learner's cluster only.
//
// The portal reaches the learner's cluster through the lab cluster's API server with
// pods/portforward, TLS end to end: the API server's services/proxy drops the caller's
// Authorization header (as upstream does, so a proxied request cannot carry the learner cluster's
// own token), which port-forward, a plain byte stream, leaves alone. Any replica connects on
// demand from the Secret, so checks work wherever the learner's request lands.
import { createServer, type Socket } from 'node:net';
import { KubeConfig, PortForward } from '@kubernetes/client-node';
import { parse, stringify } from 'yaml';
import { errorMessage, type ExecResult, type KubeObject } from '../../labs/index.ts';
import { KubeClient } from '../../labs/kube/index.ts';
import { ANNOTATION_CLUSTER_HOST, ANNOTATION_CREATED, ANNOTATION_LAB_TITLE, DEDICATED, LABEL_CLUSTER, LABEL_EXPIRES, LABEL_LAB, LABEL_LAB_DIGEST, LABEL_MANAGED_BY, LABEL_READY, LEARNER_SERVICE_ACCOUNT, MANAGED_BY, seconds } from './labels.ts';
import { namespaceManifest, podSecurityLabels, workbenchPod } from './objects.ts';
import {
  PHASE_MESSAGES,
  PROVISIONING_GRACE_MS,
  SandboxError,
  StartPhases,
  createSettling,
  deleteSandbox,
  ownerAnnotations,
  ownerLabels,
  runSetup,
  waitForWorkbench,
  type ProvisionContext,
  type ProvisionRequest,
  type StartPhase,
} from './provision.ts';

/** The record's cluster host: a pod in the sandbox namespace, whichever replica made it. */
export const POD_CLUSTER_HOST = 'pod';
/** The learner cluster's pod and Service. */
export const CLUSTER_POD = 'learner-cluster';
const CLUSTER_PORT = 6443;
const CLUSTER_DATA = '/var/lib/formicary-cluster';
const KUBECONFIG_SECRET = 'learner-cluster-kubeconfig';
const KUBECONFIG_MOUNT = '/etc/learner-cluster';
/** The portal image's user (deploy/images/portal). */
const PORTAL_UID = 10001;
/** The portal image as deploy/base names it; DEDICATED_CLUSTER_IMAGE names the company's copy. */
export const DEFAULT_CLUSTER_IMAGE = 'formicary/portal:0.1.0';
/** How long the learner's cluster may take to write its kubeconfig once its pod runs. */
const CLUSTER_SERVE_TIMEOUT_MS = 60_000;

function labelled(namespace: string, name: string): KubeObject['metadata'] {
  return { name, namespace, labels: { [LABEL_MANAGED_BY]: MANAGED_BY, 'app.kubernetes.io/name': CLUSTER_POD } };
}

/** `formicary cluster` in the portal image, on every interface, its certificate naming the Service. */
export function clusterPod(namespace: string, image: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { ...labelled(namespace, CLUSTER_POD), annotations: { 'kubernetes.io/description': 'Your own Kubernetes cluster: the workbench’s kubectl talks to it.' } },
    spec: {
      securityContext: { runAsNonRoot: true, runAsUser: PORTAL_UID, runAsGroup: PORTAL_UID, fsGroup: PORTAL_UID, seccompProfile: { type: 'RuntimeDefault' } },
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 5,
      containers: [
        {
          name: 'cluster',
          image,
          command: [
            '/opt/formicary/node_modules/.bin/node',
            '/opt/formicary/bin/formicary.js',
            'cluster',
            '--data', CLUSTER_DATA,
            '--port', String(CLUSTER_PORT),
            '--bind-address', '0.0.0.0',
            '--tls-san', `${CLUSTER_POD}.${namespace}.svc`,
            // Its pods are processes in this pod: the company cluster's pod sandbox holds them all
            // (nested sandboxes need privileges a restricted pod does not have).
            '--unsafe-local-shell',
            '--nodes', '3',
          ],
          ports: [{ name: 'https', containerPort: CLUSTER_PORT }],
          resources: { requests: { cpu: '100m', memory: '256Mi', 'ephemeral-storage': '64Mi' }, limits: { cpu: '1', memory: '1Gi', 'ephemeral-storage': '1Gi' } },
          securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          volumeMounts: [{ name: 'data', mountPath: CLUSTER_DATA }],
        },
      ],
      volumes: [{ name: 'data', emptyDir: {} }],
    },
  };
}

export function clusterService(namespace: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: labelled(namespace, CLUSTER_POD),
    spec: { selector: { 'app.kubernetes.io/name': CLUSTER_POD }, ports: [{ name: 'https', port: CLUSTER_PORT, targetPort: CLUSTER_PORT }] },
  };
}

/** The usual workbench, its kubectl pointed at the learner's cluster. */
function workbenchOfCluster(namespace: string, image: string): KubeObject {
  const pod = workbenchPod(namespace, image) as KubeObject & { spec: { containers: Array<Record<string, unknown>>; volumes: unknown[] } };
  const [container] = pod.spec.containers;
  if (container) {
    container['env'] = [{ name: 'KUBECONFIG', value: `${KUBECONFIG_MOUNT}/config` }];
    container['volumeMounts'] = [...((container['volumeMounts'] as unknown[]) ?? []), { name: 'learner-cluster', mountPath: KUBECONFIG_MOUNT, readOnly: true }];
  }
  pod.spec.volumes = [...pod.spec.volumes, { name: 'learner-cluster', secret: { secretName: KUBECONFIG_SECRET, defaultMode: 0o444 } }];
  return pod;
}

/** The admin kubeconfig with another server address, its context in the sandbox's namespace there. */
function withServer(kubeconfig: string, server: string, namespace: string): string {
  const config = parse(kubeconfig) as { clusters?: Array<{ cluster?: { server?: string } }>; contexts?: Array<{ context?: { namespace?: string } }> };
  for (const entry of config.clusters ?? []) if (entry.cluster) entry.cluster.server = server;
  for (const entry of config.contexts ?? []) if (entry.context) entry.context.namespace = namespace;
  return stringify(config);
}

/** The learner's cluster as the portal reads it; a workbench exec still goes to the workbench on the lab cluster. */
class LearnerClusterClient extends KubeClient {
  readonly #lab: KubeClient;
  constructor(kubeConfig: KubeConfig, lab: KubeClient) {
    super(kubeConfig);
    this.#lab = lab;
  }

  override exec(namespace: string, pod: string, container: string, command: string[], options: { timeoutMs?: number } = {}): Promise<ExecResult> {
    return this.#lab.exec(namespace, pod, container, command, options);
  }
}

interface Connection {
  client: KubeClient;
  close(): Promise<void>;
}

/** The learners' clusters that run as pods on the lab cluster, and this replica's connections to them. */
export class PodClusters {
  readonly image: string;
  readonly limit: number;
  readonly #lab: KubeClient;
  readonly #connections = new Map<string, Promise<Connection>>();

  constructor(lab: KubeClient, options: { image?: string; limit: number }) {
    this.#lab = lab;
    this.image = options.image ?? DEFAULT_CLUSTER_IMAGE;
    this.limit = options.limit;
  }

  /** Whether this replica is connected to the learner's cluster of `namespace` (or connecting). */
  has(namespace: string): boolean {
    return this.#connections.has(namespace);
  }

  /** A client of the learner's cluster of `namespace`, through a port-forward this replica opens once. */
  client(namespace: string): Promise<KubeClient> {
    let connection = this.#connections.get(namespace);
    if (!connection) {
      connection = this.#connect(namespace);
      this.#connections.set(namespace, connection);
      connection.catch(() => this.#connections.delete(namespace));
    }
    return connection.then((connected) => connected.client);
  }

  async #connect(namespace: string): Promise<Connection> {
    const secret = await this.#lab.get(await this.#lab.resolve('secrets'), namespace, KUBECONFIG_SECRET);
    const data = (secret as { data?: Record<string, string> } | null)?.data?.['config'];
    if (!data) throw new Error(`the sandbox ${namespace} has no Secret ${KUBECONFIG_SECRET} with the learner cluster's kubeconfig`);
    const forward = new PortForward(this.#lab.kubeConfig, true);
    const sockets = new Set<Socket>();
    const server = createServer((socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      forward.portForward(namespace, CLUSTER_POD, [CLUSTER_PORT], socket, null, socket).catch(() => socket.destroy());
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(withServer(Buffer.from(data, 'base64').toString('utf8'), `https://127.0.0.1:${port}`, namespace));
    return {
      client: new LearnerClusterClient(kubeConfig, this.#lab),
      close: () =>
        new Promise<void>((resolve) => {
          for (const socket of sockets) socket.destroy();
          server.close(() => resolve());
        }),
    };
  }

  /** Closes this replica's connection to the learner's cluster (its pod goes with the namespace). */
  async forget(namespace: string): Promise<void> {
    const connection = this.#connections.get(namespace);
    this.#connections.delete(namespace);
    await connection?.then((connected) => connected.close(), () => undefined);
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.#connections.keys()].map((namespace) => this.forget(namespace)));
  }

  /** The learner cluster's admin kubeconfig, once its process has written it (exec in its pod). */
  async #adminKubeconfig(namespace: string): Promise<string> {
    const deadline = Date.now() + CLUSTER_SERVE_TIMEOUT_MS;
    let last = '';
    while (Date.now() < deadline) {
      const result = await this.#lab.exec(namespace, CLUSTER_POD, 'cluster', ['cat', `${CLUSTER_DATA}/kubeconfig`], { timeoutMs: 10_000 }).catch((error: unknown) => ({ exitCode: -1, stdout: '', stderr: errorMessage(error) }));
      if (result.exitCode === 0 && result.stdout.includes('apiVersion')) return result.stdout;
      last = result.stderr.trim();
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`the learner's cluster did not serve within ${CLUSTER_SERVE_TIMEOUT_MS / 1000} s${last ? ` (${last})` : ''}`);
  }

  /**
   * Makes a dedicated sandbox named `namespace` on the lab cluster: its record, the learner's
   * cluster (pod, Service), its kubeconfig as a Secret, the workbench (Ready), then the lab's
   * setup: manifests into the learner's cluster, commands in the workbench. Half-made, it all goes.
   */
  async provision(ctx: ProvisionContext, request: ProvisionRequest & { namespace: string }): Promise<string> {
    const { lab, owner, namespace } = request;
    const phases = new StartPhases(request.onProgress);
    const report = (next: StartPhase) => phases.report(next);
    const now = ctx.now();
    const labCluster = this.#lab;
    try {
      report('creating-namespace');
      await labCluster.create(
        namespaceManifest(
          namespace,
          {
            [LABEL_LAB]: lab.id,
            [LABEL_LAB_DIGEST]: request.digest,
            [LABEL_EXPIRES]: seconds(new Date(now.getTime() + PROVISIONING_GRACE_MS)),
            [LABEL_READY]: 'false',
            [LABEL_CLUSTER]: DEDICATED,
            ...ownerLabels(owner),
            // The learner's cluster runs as the portal image's non-root user, restricted holds.
            ...podSecurityLabels('restricted'),
          },
          { [ANNOTATION_LAB_TITLE]: lab.title, [ANNOTATION_CREATED]: seconds(now), [ANNOTATION_CLUSTER_HOST]: POD_CLUSTER_HOST, ...ownerAnnotations(owner, now) },
        ),
        undefined,
      );
      report('starting-cluster');
      const fence: KubeObject = {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'same-namespace-only', namespace, labels: { [LABEL_MANAGED_BY]: MANAGED_BY } },
        spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: {} }] }] },
      };
      for (const object of [fence, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: LEARNER_SERVICE_ACCOUNT, namespace, labels: { [LABEL_MANAGED_BY]: MANAGED_BY } } }, clusterService(namespace)]) {
        await labCluster.create(object, namespace);
      }
      await createSettling(labCluster, clusterPod(namespace, this.image), namespace);
      const admin = await this.#adminKubeconfig(namespace);
      report('granting-access');
      await labCluster.create(
        {
          apiVersion: 'v1',
          kind: 'Secret',
          metadata: { name: KUBECONFIG_SECRET, namespace, labels: { [LABEL_MANAGED_BY]: MANAGED_BY } },
          type: 'Opaque',
          data: { config: Buffer.from(withServer(admin, `https://${CLUSTER_POD}.${namespace}.svc:${CLUSTER_PORT}`, namespace)).toString('base64') },
        },
        namespace,
      );
      const own = await this.client(namespace);
      // The workbench's namespace in the learner's cluster: setup manifests and kubectl's default land there.
      await own.create(namespaceManifest(namespace, podSecurityLabels(lab.podSecurity), { [ANNOTATION_LAB_TITLE]: lab.title }), undefined);
      report('starting-workbench');
      await createSettling(labCluster, workbenchOfCluster(namespace, ctx.workbenchImage), namespace);
      await waitForWorkbench({ ...ctx, client: labCluster }, namespace);
      report('running-setup');
      await runSetup({ ...ctx, client: own }, lab, namespace);
      await labCluster.api.request('PATCH', `/api/v1/namespaces/${namespace}`, {
        contentType: 'application/merge-patch+json',
        body: { metadata: { labels: { [LABEL_READY]: 'true', [LABEL_EXPIRES]: seconds(request.expiresAt) } } },
      });
      report('ready');
      return namespace;
    } catch (error) {
      await this.forget(namespace);
      await deleteSandbox(labCluster, namespace).catch(() => undefined);
      if (error instanceof SandboxError) throw error;
      throw new SandboxError(phases.phase, namespace, `Starting a cluster of your own for lab ${lab.id} failed while ${PHASE_MESSAGES[phases.phase].toLowerCase()}: ${errorMessage(error)}`);
    }
  }
}
