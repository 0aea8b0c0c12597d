import { describe, expect, it } from 'vitest';
import { humanDuration, toTable, type Table, type TableResource } from '../../../../src/cluster/apiserver/tables/index.ts';
import type { KubeObject } from '../../../../src/cluster/types.ts';

const now = new Date('2025-06-01T12:00:00Z');
const ago = (seconds: number): string => new Date(now.getTime() - seconds * 1000).toISOString();
const core = (resource: string): TableResource => ({ group: '', resource });

function obj(apiVersion: string, kind: string, name: string, rest: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): KubeObject {
  return { apiVersion, kind, metadata: { name, namespace: 'default', uid: `uid-${name}`, creationTimestamp: ago(600), ...metadata }, ...rest };
}

/** Cells keyed by column name, as a learner reads one line of `kubectl get -o wide`. */
function row(table: Table, index = 0): Record<string, unknown> {
  const cells = table.rows[index]?.cells ?? [];
  return Object.fromEntries(table.columnDefinitions.map((c, i) => [c.name, cells[i]]));
}

function pod(name: string, status: Record<string, unknown>, spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): KubeObject {
  return obj('v1', 'Pod', name, { spec: { containers: [{ name: 'app', image: 'nginx:1.27' }], ...spec }, status }, metadata);
}

const running = { running: { startedAt: ago(500) } };

describe('humanDuration (duration.HumanDuration)', () => {
  it.each([
    [0, '0s'],
    [-1500, '0s'],
    [-2500, '<invalid>'],
    [5_000, '5s'],
    [119_000, '119s'],
    [123_000, '2m3s'],
    [180_000, '3m'],
    [600_000, '10m'],
    [179 * 60_000, '179m'],
    [(3 * 60 + 4) * 60_000, '3h4m'],
    [5 * 3600_000, '5h'],
    [30 * 3600_000, '30h'],
    [(2 * 24 + 3) * 3600_000, '2d3h'],
    [3 * 24 * 3600_000, '3d'],
    [10 * 24 * 3600_000, '10d'],
    [(2 * 365 + 30) * 24 * 3600_000, '2y30d'],
    [9 * 365 * 24 * 3600_000, '9y'],
  ])('%d ms prints as %s', (ms, text) => {
    expect(humanDuration(ms)).toBe(text);
  });
});

describe('pods', () => {
  const table = (pods: KubeObject[]): Table => toTable(core('pods'), pods, { now });

  it('has the columns kubectl prints, the last four only with -o wide', () => {
    const t = table([]);
    expect(t.columnDefinitions.map((c) => [c.name, c.priority])).toEqual([
      ['Name', 0],
      ['Ready', 0],
      ['Status', 0],
      ['Restarts', 0],
      ['Age', 0],
      ['IP', 1],
      ['Node', 1],
      ['Nominated Node', 1],
      ['Readiness Gates', 1],
    ]);
    expect(t.columnDefinitions[0]?.format).toBe('name');
    expect(t).toMatchObject({ kind: 'Table', apiVersion: 'meta.k8s.io/v1' });
  });

  it('shows a running pod with its restarts and when the last one happened', () => {
    const p = pod('web-1', {
      phase: 'Running',
      podIP: '10.244.0.7',
      podIPs: [{ ip: '10.244.0.7' }],
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [{ name: 'app', ready: true, restartCount: 2, state: running, lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(300) } } }],
    }, { nodeName: 'lab-node' });
    expect(row(table([p]))).toEqual({ Name: 'web-1', Ready: '1/1', Status: 'Running', Restarts: '2 (5m ago)', Age: '10m', IP: '10.244.0.7', Node: 'lab-node', 'Nominated Node': '<none>', 'Readiness Gates': '<none>' });
  });

  it('shows <none> for an unscheduled pod and counts readiness gates', () => {
    const p = pod('gated', { phase: 'Pending', conditions: [{ type: 'example.com/ready', status: 'True' }] }, { readinessGates: [{ conditionType: 'example.com/ready' }, { conditionType: 'example.com/other' }] });
    expect(row(table([p]))).toMatchObject({ Ready: '0/1', Status: 'Pending', Restarts: '0', IP: '<none>', Node: '<none>', 'Readiness Gates': '1/2' });
  });

  it.each([
    ['CrashLoopBackOff', { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } }, 'CrashLoopBackOff'],
    ['ErrImagePull', { waiting: { reason: 'ErrImagePull' } }, 'ErrImagePull'],
    ['ImagePullBackOff', { waiting: { reason: 'ImagePullBackOff' } }, 'ImagePullBackOff'],
    ['ContainerCreating', { waiting: { reason: 'ContainerCreating' } }, 'ContainerCreating'],
    ['terminated with a reason', { terminated: { exitCode: 1, reason: 'Error' } }, 'Error'],
    ['OOMKilled', { terminated: { exitCode: 137, reason: 'OOMKilled' } }, 'OOMKilled'],
    ['terminated by a signal', { terminated: { exitCode: 0, signal: 9 } }, 'Signal:9'],
    ['terminated without reason', { terminated: { exitCode: 3 } }, 'ExitCode:3'],
  ])('derives STATUS from a container %s', (_case, state, status) => {
    const p = pod('p', { phase: 'Running', containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state }] });
    expect(row(table([p]))).toMatchObject({ Ready: '0/1', Status: status });
  });

  it('shows init container progress as Init:i/n', () => {
    const p = pod('init', {
      phase: 'Pending',
      initContainerStatuses: [
        { name: 'migrate', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
        { name: 'seed', ready: false, restartCount: 0, state: running },
      ],
      containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }],
    }, { initContainers: [{ name: 'migrate', image: 'busybox' }, { name: 'seed', image: 'busybox' }] });
    expect(row(table([p]))).toMatchObject({ Ready: '0/1', Status: 'Init:1/2' });
  });

  it.each([
    [{ waiting: { reason: 'ErrImagePull' } }, 'Init:ErrImagePull'],
    [{ waiting: { reason: 'CrashLoopBackOff' } }, 'Init:CrashLoopBackOff'],
    [{ waiting: { reason: 'PodInitializing' } }, 'Init:0/1'],
    [{ terminated: { exitCode: 2 } }, 'Init:ExitCode:2'],
    [{ terminated: { exitCode: 1, reason: 'Error' } }, 'Init:Error'],
  ])('reports an init container in state %j as %s', (state, status) => {
    const p = pod('init', { phase: 'Pending', initContainerStatuses: [{ name: 'setup', ready: false, restartCount: 3, state, lastState: { terminated: { exitCode: 1, finishedAt: ago(65) } } }] }, { initContainers: [{ name: 'setup', image: 'busybox' }] });
    expect(row(table([p]))).toMatchObject({ Status: status, Restarts: '3 (65s ago)' });
  });

  it('treats an init container that exited 0 as done and falls through to the pod phase', () => {
    const p = pod('init', { phase: 'Pending', initContainerStatuses: [{ name: 'setup', ready: false, restartCount: 3, state: { terminated: { exitCode: 0, signal: 15 } } }] }, { initContainers: [{ name: 'setup', image: 'busybox' }] });
    expect(row(table([p]))).toMatchObject({ Status: 'Pending', Restarts: '0' });
  });

  it('counts a running sidecar (restartable init container) as a ready container', () => {
    const p = pod('sidecar', {
      phase: 'Running',
      conditions: [{ type: 'Initialized', status: 'True' }, { type: 'Ready', status: 'True' }],
      initContainerStatuses: [{ name: 'proxy', ready: true, started: true, restartCount: 1, state: running, lastState: { terminated: { exitCode: 1, finishedAt: ago(120) } } }],
      containerStatuses: [{ name: 'app', ready: true, restartCount: 0, state: running }],
    }, { initContainers: [{ name: 'proxy', image: 'envoy', restartPolicy: 'Always' }] });
    expect(row(table([p]))).toMatchObject({ Ready: '2/2', Status: 'Running', Restarts: '1 (2m ago)' });
  });

  it('shows Completed for a finished pod and marks the row completed', () => {
    const p = pod('job-x', { phase: 'Succeeded', containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] });
    const t = table([p]);
    expect(row(t)).toMatchObject({ Ready: '0/1', Status: 'Completed' });
    expect(t.rows[0]?.conditions).toEqual([{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }]);
  });

  it('shows Running, not Completed, while another container still runs', () => {
    const p = pod('two', {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [
        { name: 'a', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
        { name: 'b', ready: true, restartCount: 0, state: running },
      ],
    }, { containers: [{ name: 'a' }, { name: 'b' }] });
    expect(row(table([p]))).toMatchObject({ Ready: '1/2', Status: 'Running' });
    const notReady = structuredClone(p);
    (notReady.status as { conditions: unknown[] }).conditions = [];
    expect(row(table([notReady]))).toMatchObject({ Status: 'NotReady' });
  });

  it('shows Terminating once deletionTimestamp is set, but not for a finished pod', () => {
    const live = pod('going', { phase: 'Running', containerStatuses: [{ name: 'app', ready: true, restartCount: 0, state: running }] }, {}, { deletionTimestamp: ago(3) });
    const done = pod('done', { phase: 'Succeeded' }, {}, { deletionTimestamp: ago(3) });
    const lost = pod('lost', { phase: 'Running', reason: 'NodeLost' }, {}, { deletionTimestamp: ago(3) });
    const t = table([live, done, lost]);
    expect(row(t, 0).Status).toBe('Terminating');
    expect(row(t, 1).Status).toBe('Succeeded');
    expect(row(t, 2).Status).toBe('Unknown');
  });

  it('shows SchedulingGated and the evicted reason', () => {
    const gated = pod('gated', { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] });
    const evicted = pod('evicted', { phase: 'Failed', reason: 'Evicted' });
    const t = table([gated, evicted]);
    expect(row(t, 0).Status).toBe('SchedulingGated');
    expect(row(t, 1).Status).toBe('Evicted');
    expect(t.rows[1]?.conditions?.[0]?.reason).toBe('Failed');
  });
});

describe('row objects and list metadata', () => {
  const p = pod('web', { phase: 'Running' }, {}, { labels: { app: 'web' } });

  it('carries PartialObjectMetadata by default', () => {
    const t = toTable(core('pods'), [p], { now, resourceVersion: '42', continue: 'abc' });
    expect(t.metadata).toEqual({ resourceVersion: '42', continue: 'abc' });
    expect(t.rows[0]?.object).toEqual({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: p.metadata });
  });

  it('carries the full object with includeObject=Object and nothing with None', () => {
    expect(toTable(core('pods'), [p], { now, includeObject: 'Object' }).rows[0]?.object).toBe(p);
    expect(toTable(core('pods'), [p], { now, includeObject: 'None' }).rows[0]).not.toHaveProperty('object');
  });

  it('leaves out column definitions for later watch events', () => {
    const t = toTable(core('pods'), [p], { now, includeColumnDefinitions: false });
    expect(t.columnDefinitions).toEqual([]);
    expect(t.rows[0]?.cells).toHaveLength(9);
  });
});

const template = { spec: { containers: [{ name: 'web', image: 'nginx:1.27' }, { name: 'log', image: 'busybox' }] } };
const selector = { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['fe', 'be'] }, { key: 'canary', operator: 'DoesNotExist' }] };

describe('workloads', () => {
  it('deployments: READY UP-TO-DATE AVAILABLE AGE; wide CONTAINERS IMAGES SELECTOR', () => {
    const d = obj('apps/v1', 'Deployment', 'web', { spec: { replicas: 3, selector, template }, status: { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 } });
    const t = toTable({ group: 'apps', resource: 'deployments' }, [d], { now });
    expect(t.columnDefinitions.map((c) => c.name)).toEqual(['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers', 'Images', 'Selector']);
    expect(row(t)).toEqual({ Name: 'web', Ready: '2/3', 'Up-to-date': 3, Available: 2, Age: '10m', Containers: 'web,log', Images: 'nginx:1.27,busybox', Selector: 'app=web,!canary,tier in (be,fe)' });
  });

  it('replicasets, statefulsets and daemonsets', () => {
    const rs = obj('apps/v1', 'ReplicaSet', 'web-5d4f', { spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template }, status: { replicas: 2, readyReplicas: 1 } });
    expect(row(toTable({ group: 'apps', resource: 'replicasets' }, [rs], { now }))).toMatchObject({ Desired: 2, Current: 2, Ready: 1, Selector: 'app=web' });
    const sts = obj('apps/v1', 'StatefulSet', 'db', { spec: { replicas: 3, template }, status: { readyReplicas: 3 } });
    expect(row(toTable({ group: 'apps', resource: 'statefulsets' }, [sts], { now }))).toEqual({ Name: 'db', Ready: '3/3', Age: '10m', Containers: 'web,log', Images: 'nginx:1.27,busybox' });
    const ds = obj('apps/v1', 'DaemonSet', 'agent', { spec: { selector: { matchLabels: { app: 'agent' } }, template: { spec: { ...template.spec, nodeSelector: { 'kubernetes.io/os': 'linux' } } } }, status: { desiredNumberScheduled: 1, currentNumberScheduled: 1, numberReady: 1, updatedNumberScheduled: 1, numberAvailable: 1 } });
    expect(row(toTable({ group: 'apps', resource: 'daemonsets' }, [ds], { now }))).toMatchObject({ Desired: 1, Available: 1, 'Node Selector': 'kubernetes.io/os=linux', Selector: 'app=agent' });
  });

  it('jobs: STATUS COMPLETIONS DURATION AGE as kubectl 1.33 prints them', () => {
    const complete = obj('batch/v1', 'Job', 'pi', { spec: { completions: 1, parallelism: 1, template }, status: { succeeded: 1, startTime: ago(600), completionTime: ago(583), conditions: [{ type: 'SuccessCriteriaMet', status: 'True' }, { type: 'Complete', status: 'True' }] } });
    const runningJob = obj('batch/v1', 'Job', 'work', { spec: { parallelism: 3, template }, status: { startTime: ago(75), active: 3 } });
    const failed = obj('batch/v1', 'Job', 'bad', { spec: { completions: 2, template }, status: { failed: 6, startTime: ago(400), conditions: [{ type: 'Failed', status: 'True' }] } });
    const suspended = obj('batch/v1', 'Job', 'later', { spec: { completions: 1, suspend: true, template }, status: { conditions: [{ type: 'Suspended', status: 'True' }] } });
    const t = toTable({ group: 'batch', resource: 'jobs' }, [complete, runningJob, failed, suspended], { now });
    expect(t.columnDefinitions.filter((c) => c.priority === 0).map((c) => c.name)).toEqual(['Name', 'Status', 'Completions', 'Duration', 'Age']);
    expect(row(t, 0)).toMatchObject({ Status: 'Complete', Completions: '1/1', Duration: '17s' });
    expect(row(t, 1)).toMatchObject({ Status: 'Running', Completions: '0/1 of 3', Duration: '75s' });
    expect(row(t, 2)).toMatchObject({ Status: 'Failed', Completions: '0/2', Duration: '6m40s' });
    expect(row(t, 3)).toMatchObject({ Status: 'Suspended', Completions: '0/1', Duration: '' });
  });

  it('cronjobs', () => {
    const cj = obj('batch/v1', 'CronJob', 'nightly', { spec: { schedule: '0 2 * * *', suspend: false, jobTemplate: { spec: { template } } }, status: { active: [{ name: 'nightly-1' }], lastScheduleTime: ago(7200) } });
    expect(row(toTable({ group: 'batch', resource: 'cronjobs' }, [cj], { now }))).toMatchObject({ Schedule: '0 2 * * *', Timezone: '<none>', Suspend: 'False', Active: 1, 'Last Schedule': '120m', Age: '10m' });
  });

  it('the scale subresource prints as Scale: NAME DESIRED AVAILABLE AGE', () => {
    const scale = obj('autoscaling/v1', 'Scale', 'web', { spec: { replicas: 5 }, status: { replicas: 3, selector: 'app=web' } });
    const t = toTable({ group: 'apps', resource: 'deployments', subresource: 'scale' }, [scale], { now });
    expect(t.columnDefinitions.map((c) => [c.name, c.format])).toEqual([['Name', ''], ['Desired', ''], ['Available', ''], ['Age', '']]);
    expect(t.rows[0]?.cells).toEqual(['web', 5, 3, '10m']);
  });

  it('controllerrevisions name their controller as kind.group/name', () => {
    const cr = obj('apps/v1', 'ControllerRevision', 'agent-7f9c', { revision: 2, data: {} }, { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'agent', uid: 'u', controller: true }] });
    expect(row(toTable({ group: 'apps', resource: 'controllerrevisions' }, [cr], { now }))).toEqual({ Name: 'agent-7f9c', Controller: 'daemonset.apps/agent', Revision: 2, Age: '10m' });
  });
});

describe('core resources', () => {
  it('services: TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE; wide SELECTOR', () => {
    const cluster = obj('v1', 'Service', 'web', { spec: { type: 'ClusterIP', clusterIP: '10.96.12.4', clusterIPs: ['10.96.12.4'], ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }, { port: 53, protocol: 'UDP' }], selector: { app: 'web' } } });
    const nodePort = obj('v1', 'Service', 'np', { spec: { type: 'NodePort', clusterIP: '10.96.0.9', ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }] } });
    const lb = obj('v1', 'Service', 'lb', { spec: { type: 'LoadBalancer', clusterIP: '10.96.0.10', ports: [{ port: 443, nodePort: 31443, protocol: 'TCP' }] }, status: { loadBalancer: {} } });
    const external = obj('v1', 'Service', 'db', { spec: { type: 'ExternalName', externalName: 'db.example.com' } });
    const headless = obj('v1', 'Service', 'headless', { spec: { type: 'ClusterIP', clusterIP: 'None', ports: [] } });
    const t = toTable(core('services'), [cluster, nodePort, lb, external, headless], { now });
    expect(row(t, 0)).toEqual({ Name: 'web', Type: 'ClusterIP', 'Cluster-IP': '10.96.12.4', 'External-IP': '<none>', 'Port(s)': '80/TCP,53/UDP', Age: '10m', Selector: 'app=web' });
    expect(row(t, 1)).toMatchObject({ 'Port(s)': '80:30080/TCP', Selector: '<none>' });
    expect(row(t, 2)).toMatchObject({ 'External-IP': '<pending>', 'Port(s)': '443:31443/TCP' });
    expect(row(t, 3)).toMatchObject({ 'Cluster-IP': '<none>', 'External-IP': 'db.example.com', 'Port(s)': '<none>' });
    expect(row(t, 4)).toMatchObject({ 'Cluster-IP': 'None', 'Port(s)': '<none>' });
  });

  it('endpoints list three addresses and how many more', () => {
    const ep = obj('v1', 'Endpoints', 'web', { subsets: [{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }], ports: [{ port: 80 }, { port: 443 }] }] });
    const none = obj('v1', 'Endpoints', 'empty', {});
    const t = toTable(core('endpoints'), [ep, none], { now });
    expect(row(t, 0).Endpoints).toBe('10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more...');
    expect(row(t, 1).Endpoints).toBe('<none>');
  });

  it('configmaps, secrets, serviceaccounts and namespaces', () => {
    const cm = obj('v1', 'ConfigMap', 'settings', { data: { a: '1', b: '2' }, binaryData: { c: 'AA==' } });
    expect(row(toTable(core('configmaps'), [cm], { now }))).toEqual({ Name: 'settings', Data: 3, Age: '10m' });
    const secret = obj('v1', 'Secret', 'tls', { type: 'kubernetes.io/tls', data: { 'tls.crt': 'x', 'tls.key': 'y' } });
    expect(row(toTable(core('secrets'), [secret], { now }))).toEqual({ Name: 'tls', Type: 'kubernetes.io/tls', Data: 2, Age: '10m' });
    const sa = obj('v1', 'ServiceAccount', 'learner', {});
    expect(row(toTable(core('serviceaccounts'), [sa], { now }))).toEqual({ Name: 'learner', Secrets: 0, Age: '10m' });
    const ns = obj('v1', 'Namespace', 'lab-1', { status: { phase: 'Terminating' } }, { namespace: undefined });
    expect(row(toTable(core('namespaces'), [ns], { now }))).toEqual({ Name: 'lab-1', Status: 'Terminating', Age: '10m' });
  });

  it('nodes: STATUS ROLES AGE VERSION; wide addresses and node info', () => {
    const node = obj('v1', 'Node', 'lab-node', {
      spec: { unschedulable: true },
      status: {
        conditions: [{ type: 'MemoryPressure', status: 'False' }, { type: 'Ready', status: 'True' }],
        addresses: [{ type: 'InternalIP', address: '192.0.2.10' }, { type: 'Hostname', address: 'lab-node' }],
        nodeInfo: { kubeletVersion: 'v1.33.1', osImage: 'Debian GNU/Linux 12 (bookworm)', kernelVersion: '6.1.0', containerRuntimeVersion: 'formicary://0.1.0' },
      },
    }, { namespace: undefined, labels: { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/role': 'worker' } });
    expect(row(toTable(core('nodes'), [node], { now }))).toEqual({
      Name: 'lab-node', Status: 'Ready,SchedulingDisabled', Roles: 'control-plane,worker', Age: '10m', Version: 'v1.33.1',
      'Internal-IP': '192.0.2.10', 'External-IP': '<none>', 'OS-Image': 'Debian GNU/Linux 12 (bookworm)', 'Kernel-Version': '6.1.0', 'Container-Runtime': 'formicary://0.1.0',
    });
  });

  it('events: LAST SEEN TYPE REASON OBJECT MESSAGE', () => {
    const ev = obj('v1', 'Event', 'web-1.17a', { involvedObject: { kind: 'Pod', name: 'web-1', fieldPath: 'spec.containers{app}' }, type: 'Warning', reason: 'BackOff', message: 'Back-off restarting failed container\n', firstTimestamp: ago(900), lastTimestamp: ago(30), count: 7, source: { component: 'kubelet', host: 'lab-node' } });
    const t = toTable(core('events'), [ev], { now });
    expect(t.columnDefinitions.filter((c) => c.priority === 0).map((c) => c.name)).toEqual(['Last Seen', 'Type', 'Reason', 'Object', 'Message']);
    expect(row(t)).toEqual({ 'Last Seen': '30s', Type: 'Warning', Reason: 'BackOff', Object: 'pod/web-1', Subobject: 'spec.containers{app}', Source: 'kubelet, lab-node', Message: 'Back-off restarting failed container', 'First Seen': '15m', Count: 7, Name: 'web-1.17a' });
    const newApi = obj('v1', 'Event', 'e2', { involvedObject: { kind: 'Node' }, eventTime: ago(20), reportingController: 'formicary', series: { count: 3, lastObservedTime: ago(4) } });
    expect(row(toTable(core('events'), [newApi], { now }))).toMatchObject({ 'Last Seen': '4s', 'First Seen': '20s', Object: 'node', Count: 3, Source: 'formicary' });
  });

  it('persistent volumes and claims', () => {
    const pv = obj('v1', 'PersistentVolume', 'pv-1', { spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteMany', 'ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', storageClassName: 'standard', claimRef: { namespace: 'lab', name: 'data' }, volumeMode: 'Filesystem' }, status: { phase: 'Bound' } });
    expect(row(toTable(core('persistentvolumes'), [pv], { now }))).toEqual({ Name: 'pv-1', Capacity: '1Gi', 'Access Modes': 'RWO,RWX', 'Reclaim Policy': 'Retain', Status: 'Bound', Claim: 'lab/data', StorageClass: 'standard', VolumeAttributesClass: '<unset>', Reason: '', Age: '10m', VolumeMode: 'Filesystem' });
    const bound = obj('v1', 'PersistentVolumeClaim', 'data', { spec: { volumeName: 'pv-1', storageClassName: 'standard', resources: { requests: { storage: '500Mi' } } }, status: { phase: 'Bound', capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'] } });
    const pending = obj('v1', 'PersistentVolumeClaim', 'wait', { spec: { storageClassName: 'standard' }, status: { phase: 'Pending' } });
    const t = toTable(core('persistentvolumeclaims'), [bound, pending], { now });
    expect(row(t, 0)).toMatchObject({ Status: 'Bound', Volume: 'pv-1', Capacity: '1Gi', 'Access Modes': 'RWO', StorageClass: 'standard' });
    expect(row(t, 1)).toMatchObject({ Status: 'Pending', Volume: '', Capacity: '', 'Access Modes': '' });
  });

  it('resourcequotas split requests and limits, sorted by resource', () => {
    const rq = obj('v1', 'ResourceQuota', 'sandbox', { spec: {}, status: { hard: { pods: '10', 'limits.memory': '1Gi', 'requests.cpu': '1', 'limits.cpu': '2' }, used: { pods: '3', 'requests.cpu': '250m', 'limits.cpu': '500m' } } });
    expect(row(toTable(core('resourcequotas'), [rq], { now }))).toEqual({ Name: 'sandbox', Request: 'pods: 3/10, requests.cpu: 250m/1', Limit: 'limits.cpu: 500m/2, limits.memory: 0/1Gi', Age: '10m' });
  });

  it('limitranges use the default convertor: NAME, CREATED AT', () => {
    const lr = obj('v1', 'LimitRange', 'defaults', { spec: { limits: [] } }, { creationTimestamp: '2025-05-30T08:15:00Z' });
    const t = toTable(core('limitranges'), [lr], { now });
    expect(t.columnDefinitions.map((c) => [c.name, c.type])).toEqual([['Name', 'string'], ['Created At', 'date']]);
    expect(t.rows[0]?.cells).toEqual(['defaults', '2025-05-30T08:15:00Z']);
  });
});

describe('other API groups', () => {
  it('ingresses and ingressclasses', () => {
    const ing = obj('networking.k8s.io/v1', 'Ingress', 'web', { spec: { ingressClassName: 'nginx', rules: [{ host: 'a.example.com' }, { host: 'b.example.com' }], tls: [{ hosts: ['a.example.com'] }] }, status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } } });
    const bare = obj('networking.k8s.io/v1', 'Ingress', 'bare', { spec: { defaultBackend: {} } });
    const t = toTable({ group: 'networking.k8s.io', resource: 'ingresses' }, [ing, bare], { now });
    expect(row(t, 0)).toEqual({ Name: 'web', Class: 'nginx', Hosts: 'a.example.com,b.example.com', Address: '192.0.2.1', Ports: '80, 443', Age: '10m' });
    expect(row(t, 1)).toMatchObject({ Class: '<none>', Hosts: '*', Address: '', Ports: '80' });
    const ic = obj('networking.k8s.io/v1', 'IngressClass', 'nginx', { spec: { controller: 'k8s.io/ingress-nginx', parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'external-lb' } } });
    expect(row(toTable({ group: 'networking.k8s.io', resource: 'ingressclasses' }, [ic], { now }))).toEqual({ Name: 'nginx', Controller: 'k8s.io/ingress-nginx', Parameters: 'IngressParameters.k8s.example.com/external-lb', Age: '10m' });
  });

  it('networkpolicies and endpointslices', () => {
    const deny = obj('networking.k8s.io/v1', 'NetworkPolicy', 'deny-all', { spec: { podSelector: {} } });
    const web = obj('networking.k8s.io/v1', 'NetworkPolicy', 'web', { spec: { podSelector: { matchLabels: { app: 'web' } } } });
    const t = toTable({ group: 'networking.k8s.io', resource: 'networkpolicies' }, [deny, web], { now });
    expect(row(t, 0)['Pod-Selector']).toBe('<none>');
    expect(row(t, 1)['Pod-Selector']).toBe('app=web');
    const slice = obj('discovery.k8s.io/v1', 'EndpointSlice', 'web-abc', { addressType: 'IPv4', ports: [{ name: 'http', port: 80 }], endpoints: ['1', '2', '3', '4', '5'].map((n) => ({ addresses: [`10.0.0.${n}`] })) });
    const empty = obj('discovery.k8s.io/v1', 'EndpointSlice', 'web-def', { addressType: 'IPv4' });
    const s = toTable({ group: 'discovery.k8s.io', resource: 'endpointslices' }, [slice, empty], { now });
    expect(row(s, 0)).toEqual({ Name: 'web-abc', AddressType: 'IPv4', Ports: '80', Endpoints: '10.0.0.1,10.0.0.2,10.0.0.3 + 2 more...', Age: '10m' });
    expect(row(s, 1)).toMatchObject({ Ports: '<unset>', Endpoints: '<unset>' });
  });

  it('rolebindings show ROLE; roles and clusterroles show CREATED AT', () => {
    const rb = obj('rbac.authorization.k8s.io/v1', 'RoleBinding', 'learner-edit', { roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' }, subjects: [{ kind: 'ServiceAccount', name: 'learner', namespace: 'lab' }, { kind: 'User', name: 'alice' }, { kind: 'Group', name: 'devs' }, { kind: 'User', name: 'bob' }] });
    expect(row(toTable({ group: 'rbac.authorization.k8s.io', resource: 'rolebindings' }, [rb], { now }))).toEqual({ Name: 'learner-edit', Role: 'ClusterRole/edit', Age: '10m', Users: 'alice, bob', Groups: 'devs', ServiceAccounts: 'lab/learner' });
    const role = obj('rbac.authorization.k8s.io/v1', 'Role', 'reader', { rules: [] }, { creationTimestamp: '2025-06-01T11:50:00Z' });
    expect(toTable({ group: 'rbac.authorization.k8s.io', resource: 'roles' }, [role], { now }).rows[0]?.cells).toEqual(['reader', '2025-06-01T11:50:00Z']);
    expect(toTable({ group: 'rbac.authorization.k8s.io', resource: 'clusterroles' }, [], { now }).columnDefinitions.map((c) => c.name)).toEqual(['Name', 'Created At']);
  });

  it('horizontalpodautoscalers: REFERENCE TARGETS MINPODS MAXPODS REPLICAS', () => {
    const hpa = obj('autoscaling/v2', 'HorizontalPodAutoscaler', 'web', {
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
        minReplicas: 1,
        maxReplicas: 10,
        metrics: [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
          { type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '200Mi' } } },
          { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } } },
        ],
      },
      status: { currentReplicas: 2, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 23, averageValue: '12m' } } }] },
    });
    expect(row(toTable({ group: 'autoscaling', resource: 'horizontalpodautoscalers' }, [hpa], { now }))).toEqual({
      Name: 'web', Reference: 'Deployment/web', Targets: 'cpu: 23%/50%, memory: <unknown>/200Mi + 1 more...', MinPods: '1', MaxPods: 10, Replicas: 2, Age: '10m',
    });
    const v1 = obj('autoscaling/v1', 'HorizontalPodAutoscaler', 'old', { spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 3, targetCPUUtilizationPercentage: 80 }, status: { currentReplicas: 1 } });
    expect(row(toTable({ group: 'autoscaling', resource: 'horizontalpodautoscalers' }, [v1], { now }))).toMatchObject({ Targets: 'cpu: <unknown>/80%', MinPods: '<unset>' });
  });

  it('poddisruptionbudgets, leases and storageclasses', () => {
    const pdb = obj('policy/v1', 'PodDisruptionBudget', 'web', { spec: { minAvailable: '50%' }, status: { disruptionsAllowed: 1 } });
    expect(row(toTable({ group: 'policy', resource: 'poddisruptionbudgets' }, [pdb], { now }))).toEqual({ Name: 'web', 'Min Available': '50%', 'Max Unavailable': 'N/A', 'Allowed Disruptions': 1, Age: '10m' });
    const lease = obj('coordination.k8s.io/v1', 'Lease', 'lab-node', { spec: { holderIdentity: 'lab-node' } });
    expect(row(toTable({ group: 'coordination.k8s.io', resource: 'leases' }, [lease], { now }))).toEqual({ Name: 'lab-node', Holder: 'lab-node', Age: '10m' });
    const sc = obj('storage.k8s.io/v1', 'StorageClass', 'standard', { provisioner: 'formicary.dev/hostpath' }, { namespace: undefined, annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } });
    expect(row(toTable({ group: 'storage.k8s.io', resource: 'storageclasses' }, [sc], { now }))).toEqual({ Name: 'standard (default)', Provisioner: 'formicary.dev/hostpath', ReclaimPolicy: 'Delete', VolumeBindingMode: 'Immediate', AllowVolumeExpansion: false, Age: '10m' });
  });

  it('customresourcedefinitions show CREATED AT', () => {
    const crd = obj('apiextensions.k8s.io/v1', 'CustomResourceDefinition', 'widgets.example.com', { spec: {} }, { namespace: undefined, creationTimestamp: '2025-01-01T00:00:00Z' });
    expect(toTable({ group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions' }, [crd], { now }).rows[0]?.cells).toEqual(['widgets.example.com', '2025-01-01T00:00:00Z']);
  });
});

describe('custom resources', () => {
  const widget = obj('example.com/v1', 'Widget', 'w1', { spec: { size: 3, color: 'blue', tags: ['a', 'b'], ratio: 0.5, enabled: true }, status: { conditions: [{ type: 'Synced', status: 'False' }, { type: 'Ready', status: 'True' }], since: ago(3600) } });

  it('print their CRD additionalPrinterColumns with JSONPath evaluated', () => {
    const resource: TableResource = {
      group: 'example.com',
      resource: 'widgets',
      crd: {
        printerColumns: [
          { name: 'Size', type: 'integer', jsonPath: '.spec.size' },
          { name: 'Color', type: 'string', jsonPath: '.spec.color', description: 'paint' },
          { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
          { name: 'Tags', type: 'string', jsonPath: '.spec.tags', priority: 1 },
          { name: 'First', type: 'string', jsonPath: ".spec['tags'][0]", priority: 1 },
          { name: 'Ratio', type: 'number', jsonPath: '.spec.ratio' },
          { name: 'Enabled', type: 'boolean', jsonPath: '.spec.enabled' },
          { name: 'Missing', type: 'string', jsonPath: '.spec.nothing.here' },
          { name: 'Since', type: 'date', jsonPath: '.status.since' },
          { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
        ],
      },
    };
    const t = toTable(resource, [widget], { now });
    expect(t.columnDefinitions[1]).toEqual({ name: 'Size', type: 'integer', format: '', description: 'Custom resource definition column (in JSONPath format): .spec.size', priority: 0 });
    expect(t.columnDefinitions[2]?.description).toBe('paint');
    expect(t.columnDefinitions[4]?.priority).toBe(1);
    expect(row(t)).toEqual({ Name: 'w1', Size: 3, Color: 'blue', Ready: 'True', Tags: '["a","b"]', First: 'a', Ratio: 0.5, Enabled: true, Missing: null, Since: '60m', Age: '10m' });
  });

  it('print NAME AGE when the CRD has no printer columns', () => {
    const t = toTable({ group: 'example.com', resource: 'widgets', crd: {} }, [widget], { now });
    expect(t.columnDefinitions.map((c) => [c.name, c.type])).toEqual([['Name', 'string'], ['Age', 'date']]);
    expect(t.rows[0]?.cells).toEqual(['w1', '10m']);
  });

  it('read recursive descent in a column as client-go does', () => {
    const t = toTable({ group: 'example.com', resource: 'widgets', crd: { printerColumns: [{ name: 'Deep', type: 'integer', jsonPath: '..size' }] } }, [widget], { now });
    expect(row(t)).toEqual({ Name: 'w1', Deep: 3 });
  });

  it('fall back to NAME, CREATED AT for a column that is not JSONPath', () => {
    const t = toTable({ group: 'example.com', resource: 'widgets', crd: { printerColumns: [{ name: 'Broken', type: 'string', jsonPath: '.spec.tags[0' }] } }, [widget], { now });
    expect(t.columnDefinitions.map((c) => c.name)).toEqual(['Name', 'Created At']);
  });
});
