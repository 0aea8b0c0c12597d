// The cluster at work: kubectl run and expose, rollouts (status, history, undo, restart, pause,
// resume, a deadline), scale, logs, exec (WebSocket, kubectl 1.30+), Jobs, CronJobs,
// StatefulSets, an HPA, an image typo, a crash loop. The kubelet starts containers at once
// and runs time 50x faster (back-off, probes, grace periods), so cases stay short.
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { ALL_VERSIONS, EDGE_VERSIONS, minor, useConformanceCluster, versionsFrom, type Sandbox } from './harness.ts';
import { expectResult, table, text } from './output.ts';

const c = useConformanceCluster();

const pod = (s: Sandbox, name: string) => c.get('', 'v1', 'pods', s.namespace, name) as (KubeObject & { spec: Record<string, any>; status: Record<string, any> }) | undefined;
const deployment = (s: Sandbox, name: string) => c.get('apps', 'v1', 'deployments', s.namespace, name) as (KubeObject & { spec: Record<string, any>; status: Record<string, any> }) | undefined;

async function available(s: Sandbox, name: string, replicas: number): Promise<void> {
  await c.until(`deployment ${name} available with ${replicas}`, () => {
    const d = deployment(s, name);
    const st = d?.status;
    return st && st.observedGeneration === d.metadata.generation && st.updatedReplicas === replicas && st.availableReplicas === replicas && (st.replicas ?? 0) === replicas;
  });
}

async function ready(s: Sandbox, name: string): Promise<void> {
  await c.until(`pod ${name} ready`, () => pod(s, name)?.status?.conditions?.some((cond: { type: string; status: string }) => cond.type === 'Ready' && cond.status === 'True'));
}

/** rollout status prints progress lines while it waits, then its verdict. */
function expectRolledOut(result: { code: number; stdout: string; stderr: string }, what: string): void {
  expect([result.code, result.stderr]).toEqual([0, '']);
  const lines = result.stdout.trimEnd().split('\n');
  expect(lines.at(-1)).toBe(what);
  for (const line of lines.slice(0, -1)) expect(line).toMatch(/^Waiting for (deployment "\w+" rollout to finish: .+|\d+ pods to be ready\.\.\.|partitioned roll out to complete: .+|statefulset rolling update to complete .+)$/);
}

describe.concurrent('kubectl run and expose', () => {
  it.each(EDGE_VERSIONS)('%s run --restart=Never creates a bare pod that runs', async (version) => {
    const s = await c.sandbox('run-never');
    expectResult(await s.kubectl(version, ['run', 'web', '--image=nginx', '--restart=Never', '--labels=app=web', '--port=80']), { code: 0, stdout: 'pod/web created\n' });
    await ready(s, 'web');
    expect([pod(s, 'web')?.spec.restartPolicy, pod(s, 'web')?.metadata.labels]).toEqual(['Never', { app: 'web' }]);
  });

  it.each(EDGE_VERSIONS)('%s run --dry-run=client -o yaml prints what kubectl would send', async (version) => {
    const s = await c.sandbox('run-dry-client');
    const result = await s.kubectl(version, ['run', 'web', '--image=nginx', '--dry-run=client', '-o', 'yaml']);
    expectResult(result, {
      code: 0,
      stdout: text`
        apiVersion: v1
        kind: Pod
        metadata:
          creationTimestamp: null
          labels:
            run: web
          name: web
        spec:
          containers:
          - image: nginx
            name: web
            resources: {}
          dnsPolicy: ClusterFirst
          restartPolicy: Always
        status: {}
      `,
    });
    expect(pod(s, 'web')).toBeUndefined();
  });

  it.each(EDGE_VERSIONS)('%s run --dry-run=server -o yaml prints what the server would store', async (version) => {
    const s = await c.sandbox('run-dry-server');
    const result = await s.kubectl(version, ['run', 'web', '--image=nginx', '--dry-run=server', '-o', 'yaml']);
    expect([result.code, result.stderr]).toEqual([0, '']);
    const out = result.stdout;
    for (const fragment of [
      '  serviceAccountName: default\n',
      '  enableServiceLinks: true\n',
      '  preemptionPolicy: PreemptLowerPriority\n  priority: 0\n',
      '    imagePullPolicy: Always\n',
      '    - mountPath: /var/run/secrets/kubernetes.io/serviceaccount\n',
      '      readOnly: true\n',
      '    key: node.kubernetes.io/not-ready\n',
      'status:\n  phase: Pending\n  qosClass: BestEffort\n',
    ]) {
      expect(out).toContain(fragment);
    }
    expect(out).toMatch(/\n {2}uid: [0-9a-f-]{36}\n/);
    expect(pod(s, 'web')).toBeUndefined();
  });

  it.each(EDGE_VERSIONS)('%s expose a deployment: the service selects its pods and gets their endpoints', async (version) => {
    const s = await c.sandbox('expose');
    await s.must(['create', 'deployment', 'web', '--image=nginx', '--replicas=2', '--port=80']);
    expectResult(await s.kubectl(version, ['expose', 'deployment', 'web', '--port=8080', '--target-port=80']), { code: 0, stdout: 'service/web exposed\n' });
    const svc = c.get('', 'v1', 'services', s.namespace, 'web');
    expect(svc?.spec).toMatchObject({ selector: { app: 'web' }, ports: [{ port: 8080, protocol: 'TCP', targetPort: 80 }], type: 'ClusterIP' });
    await c.until('two endpoints', () => ((c.get('', 'v1', 'endpoints', s.namespace, 'web') as Record<string, any> | undefined)?.subsets?.[0]?.addresses?.length ?? 0) === 2);
  });

  it.each(EDGE_VERSIONS)('%s expose a pod as a NodePort service', async (version) => {
    const s = await c.sandbox('expose-nodeport');
    await s.must(['run', 'web', '--image=nginx', '--port=80']);
    expectResult(await s.kubectl(version, ['expose', 'pod', 'web', '--type=NodePort', '--name=web-np']), { code: 0, stdout: 'service/web-np exposed\n' });
    const port = (c.get('', 'v1', 'services', s.namespace, 'web-np')?.spec as { ports: Array<{ nodePort: number }> }).ports[0]?.nodePort;
    expect(port).toBeGreaterThanOrEqual(30000);
  });
});

describe.concurrent('kubectl rollout', () => {
  it.each(EDGE_VERSIONS)('%s status waits until the new pods are available', async (version) => {
    const s = await c.sandbox('rollout-status');
    await s.must(['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=2']);
    expectRolledOut(await s.kubectl(version, ['rollout', 'status', 'deployment/web', '--timeout=60s']), 'deployment "web" successfully rolled out');
  });

  it.each(EDGE_VERSIONS)('%s history lists a revision per template', async (version) => {
    const s = await c.sandbox('rollout-history');
    await s.must(['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=1']);
    await available(s, 'web', 1);
    await s.must(['set', 'image', 'deployment/web', 'nginx=nginx:1.28']);
    await c.until('two ReplicaSets', () => c.list('apps', 'v1', 'replicasets', s.namespace).length === 2);
    expectResult(await s.kubectl(version, ['rollout', 'history', 'deployment/web']), { code: 0, stdout: 'deployment.apps/web \nREVISION  CHANGE-CAUSE\n1         <none>\n2         <none>\n\n' });
  });

  it.each(EDGE_VERSIONS)('%s history --revision shows that revision\'s template', async (version) => {
    const s = await c.sandbox('rollout-revision');
    await s.must(['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=1']);
    await available(s, 'web', 1);
    await s.must(['set', 'image', 'deployment/web', 'nginx=nginx:1.28']);
    await c.until('two ReplicaSets', () => c.list('apps', 'v1', 'replicasets', s.namespace).length === 2);
    const templateScheduling = minor(version) >= 30 ? '  Node-Selectors:\t<none>\n  Tolerations:\t<none>\n' : '';
    expectResult(
      await s.kubectl(version, ['rollout', 'history', 'deployment/web', '--revision=2']),
      {
        code: 0,
        stdout:
          'deployment.apps/web with revision #2\nPod Template:\n  Labels:\tapp=web\n\tpod-template-hash=<hash>\n  Containers:\n   nginx:\n    Image:\tnginx:1.28\n    Port:\t<none>\n    Host Port:\t<none>\n    Environment:\t<none>\n    Mounts:\t<none>\n  Volumes:\t<none>\n' +
          templateScheduling +
          '\n',
      },
      (out) => out.replace(/pod-template-hash=[bcdfghjklmnpqrstvwxz2456789]+/, 'pod-template-hash=<hash>'),
    );
  });

  it.each(EDGE_VERSIONS)('%s undo goes back to the previous template as a new revision', async (version) => {
    const s = await c.sandbox('rollout-undo');
    await s.must(['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=1']);
    await available(s, 'web', 1);
    await s.must(['set', 'image', 'deployment/web', 'nginx=nginx:1.28']);
    await c.until('two ReplicaSets', () => c.list('apps', 'v1', 'replicasets', s.namespace).length === 2);
    expectResult(await s.kubectl(version, ['rollout', 'undo', 'deployment/web']), { code: 0, stdout: 'deployment.apps/web rolled back\n' });
    expect(deployment(s, 'web')?.spec.template.spec.containers[0].image).toBe('nginx:1.27');
    await c.until('revision 3', () => deployment(s, 'web')?.metadata.annotations?.['deployment.kubernetes.io/revision'] === '3');
  });

  it.each(EDGE_VERSIONS)('%s undo to a revision that does not exist', async (version) => {
    const s = await c.sandbox('rollout-undo-missing');
    await s.must(['create', 'deployment', 'web', '--image=nginx:1.27']);
    await c.until('revision 1', () => deployment(s, 'web')?.metadata.annotations?.['deployment.kubernetes.io/revision'] === '1');
    expectResult(await s.kubectl(version, ['rollout', 'undo', 'deployment/web', '--to-revision=9']), { code: 1, stdout: '', stderr: 'error: unable to find specified revision 9 in history\n' });
  });

  it.each(EDGE_VERSIONS)('%s pause holds a new template back until resume', async (version) => {
    const s = await c.sandbox('rollout-pause');
    await s.must(['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=1']);
    await available(s, 'web', 1);
    const results = [await s.kubectl(version, ['rollout', 'pause', 'deployment/web'])];
    await s.must(['set', 'image', 'deployment/web', 'nginx=nginx:1.28']);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(c.list('apps', 'v1', 'replicasets', s.namespace)).toHaveLength(1);
    results.push(await s.kubectl(version, ['rollout', 'resume', 'deployment/web']));
    expect(results).toEqual([
      { code: 0, stdout: 'deployment.apps/web paused\n', stderr: '' },
      { code: 0, stdout: 'deployment.apps/web resumed\n', stderr: '' },
    ]);
    expectRolledOut(await s.kubectl(version, ['rollout', 'status', 'deployment/web', '--timeout=60s']), 'deployment "web" successfully rolled out');
    expect(c.list('apps', 'v1', 'replicasets', s.namespace)).toHaveLength(2);
  });

  it.each(EDGE_VERSIONS)('%s restart rolls the same image out again', async (version) => {
    const s = await c.sandbox('rollout-restart');
    await s.must(['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=1']);
    await available(s, 'web', 1);
    expectResult(await s.kubectl(version, ['rollout', 'restart', 'deployment/web']), { code: 0, stdout: 'deployment.apps/web restarted\n' });
    expect(deployment(s, 'web')?.spec.template.metadata.annotations?.['kubectl.kubernetes.io/restartedAt']).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    await c.until('a second ReplicaSet', () => c.list('apps', 'v1', 'replicasets', s.namespace).length === 2);
  });

  it.each(EDGE_VERSIONS)('%s status of a rollout stuck on an image typo: progress deadline exceeded', async (version) => {
    const s = await c.sandbox('rollout-deadline');
    await s.apply(text`
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: web}
      spec:
        progressDeadlineSeconds: 2
        selector: {matchLabels: {app: web}}
        template:
          metadata: {labels: {app: web}}
          spec: {containers: [{name: web, image: ngnix}]}
    `);
    const result = await s.kubectl(version, ['rollout', 'status', 'deployment/web', '--timeout=60s']);
    expect([result.code, result.stderr]).toEqual([1, 'error: deployment "web" exceeded its progress deadline\n']);
    expect(result.stdout).toMatch(/^(Waiting for deployment "web" rollout to finish: 0 of 1 updated replicas are available\.\.\.\n)+$/);
  });

  it.each(EDGE_VERSIONS)('%s status gives up at --timeout', async (version) => {
    const s = await c.sandbox('rollout-timeout');
    await s.apply('apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: ngnix}]}\n');
    const result = await s.kubectl(version, ['rollout', 'status', 'deployment/web', '--timeout=2s']);
    expect([result.code, result.stderr]).toEqual([1, 'error: timed out waiting for the condition\n']);
  });
});

describe.concurrent('ReplicationController (the kubernetes.io page\'s nginx example)', () => {
  const rc = text`
    apiVersion: v1
    kind: ReplicationController
    metadata:
      name: nginx
    spec:
      replicas: 3
      selector:
        app: nginx
      template:
        metadata:
          name: nginx
          labels:
            app: nginx
        spec:
          containers:
          - name: nginx
            image: nginx
            ports:
            - containerPort: 80
  `;
  const running = (s: Sandbox) => c.list('', 'v1', 'pods', s.namespace).filter((p) => !p.metadata.deletionTimestamp && (p.status as { phase?: string }).phase === 'Running');

  it.each(EDGE_VERSIONS)('%s keeps its replicas, scales, refuses a template its selector misses, and takes its pods when deleted', async (version) => {
    const s = await c.sandbox('rc');
    expectResult(await s.kubectl(version, ['apply', '-f', '-'], { stdin: rc }), { code: 0, stdout: 'replicationcontroller/nginx created\n' });
    await c.until('three nginx pods running', () => running(s).length === 3 && (c.get('', 'v1', 'replicationcontrollers', s.namespace, 'nginx')?.status as { readyReplicas?: number }).readyReplicas === 3);
    expectResult(await s.kubectl(version, ['get', 'rc', 'nginx', '-o', 'wide']), {
      code: 0,
      stdout: 'NAME    DESIRED   CURRENT   READY   AGE     CONTAINERS   IMAGES   SELECTOR\nnginx   3         3         3       <age>   nginx        nginx    app=nginx\n',
    }, (out) => table(out));
    const pod = running(s)[0];
    expect(pod?.metadata.ownerReferences).toEqual([{ apiVersion: 'v1', kind: 'ReplicationController', name: 'nginx', uid: c.get('', 'v1', 'replicationcontrollers', s.namespace, 'nginx')?.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    // A pod deleted by hand is replaced.
    await s.must(['delete', 'pod', pod?.metadata.name ?? '', '--wait=false']);
    await c.until('a replacement', () => running(s).length === 3 && running(s).every((p) => p.metadata.uid !== pod?.metadata.uid));

    expectResult(await s.kubectl(version, ['scale', 'rc', 'nginx', '--replicas=1']), { code: 0, stdout: 'replicationcontroller/nginx scaled\n' });
    await c.until('one pod left', () => c.list('', 'v1', 'pods', s.namespace).length === 1);

    expectResult(
      await s.kubectl(version, ['apply', '-f', '-'], {
        stdin: 'apiVersion: v1\nkind: ReplicationController\nmetadata: {name: bad}\nspec:\n  selector: {app: web}\n  template:\n    metadata: {labels: {app: db}}\n    spec: {containers: [{name: c, image: nginx}]}\n',
      }),
      { code: 1, stdout: '', stderr: 'The ReplicationController "bad" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"db"}: selector does not match labels in spec.template\n' },
    );

    expectResult(await s.kubectl(version, ['delete', 'rc', 'nginx']), { code: 0, stdout: 'replicationcontroller "nginx" deleted\n' });
    await c.until('its pods gone', () => c.list('', 'v1', 'pods', s.namespace).length === 0);
  });
});

describe.concurrent('pod garbage collection', () => {
  const onGhostNode = (name: string) => text`
    apiVersion: v1
    kind: Pod
    metadata: {name: ${name}}
    spec:
      nodeName: node-that-left
      containers: [{name: web, image: nginx:1.27}]
  `;

  it.each(EDGE_VERSIONS)('%s a pod bound to a Node that does not exist is failed and deleted, terminating or not', async (version) => {
    const s = await c.sandbox('podgc-orphans');
    // Failed with upstream's DisruptionTarget condition on the way out: a watch, started before
    // the pods exist (pod GC may act at once), sees it.
    const watched: KubeObject[] = [];
    const watch = c.cluster.registry.watch(c.cluster.registry.lookup('', 'v1', 'pods')!, { namespace: s.namespace }, (event) => {
      if (event.type === 'MODIFIED') watched.push(event.object);
    });
    try {
      await s.apply(onGhostNode('waiting') + '---\n' + onGhostNode('leaving'));
      expectResult(await s.kubectl(version, ['delete', 'pod', 'leaving', '--wait=false']), { code: 0, stdout: 'pod "leaving" deleted\n' });
      await c.until('both orphans gone', () => c.list('', 'v1', 'pods', s.namespace).length === 0);
    } finally {
      watch.stop();
    }
    const failed = watched.find((pod) => pod.metadata.name === 'waiting' && (pod.status as { phase?: string }).phase === 'Failed');
    expect((failed?.status as { conditions?: Array<Record<string, unknown>> } | undefined)?.conditions).toContainEqual(
      expect.objectContaining({ type: 'DisruptionTarget', status: 'True', reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' }),
    );
    expectResult(await s.kubectl(version, ['get', 'pods']), { code: 0, stdout: '', stderr: `No resources found in ${s.namespace} namespace.\n` });
  });
});

describe.concurrent('kubectl scale (pods follow)', () => {
  it.each(EDGE_VERSIONS)('%s up and down', async (version) => {
    const s = await c.sandbox('scale-pods');
    await s.must(['create', 'deployment', 'web', '--image=nginx', '--replicas=1']);
    await available(s, 'web', 1);
    expectResult(await s.kubectl(version, ['scale', 'deployment/web', '--replicas=3']), { code: 0, stdout: 'deployment.apps/web scaled\n' });
    await available(s, 'web', 3);
    expectResult(await s.kubectl(version, ['get', 'deployment', 'web']), { code: 0, stdout: 'NAME   READY   UP-TO-DATE   AVAILABLE   AGE\nweb    3/3     3            3           <age>\n' }, table);
  });
});

describe.concurrent('kubectl logs', () => {
  const script = "for i in 1 2 3; do echo line $i; done; echo oops >&2; exit 3";

  async function finished(s: Sandbox): Promise<void> {
    await s.must(['run', 'counter', '--image=busybox', '--restart=Never', '--', 'sh', '-c', script]);
    await c.until('counter failed', () => pod(s, 'counter')?.status?.phase === 'Failed');
  }

  it.each(EDGE_VERSIONS)('%s what the container printed, stdout and stderr in order', async (version) => {
    const s = await c.sandbox('logs');
    await finished(s);
    expectResult(await s.kubectl(version, ['logs', 'counter']), { code: 0, stdout: 'line 1\nline 2\nline 3\noops\n' });
  });

  it.each(EDGE_VERSIONS)('%s --tail', async (version) => {
    const s = await c.sandbox('logs-tail');
    await finished(s);
    expectResult(await s.kubectl(version, ['logs', 'counter', '--tail=2']), { code: 0, stdout: 'line 3\noops\n' });
  });

  it.each(EDGE_VERSIONS)('%s --timestamps', async (version) => {
    const s = await c.sandbox('logs-timestamps');
    await finished(s);
    expectResult(await s.kubectl(version, ['logs', 'counter', '--timestamps']), { code: 0, stdout: /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z (line \d|oops)\n){4}$/ });
  });

  it.each(EDGE_VERSIONS)('%s -f of a container that ends', async (version) => {
    const s = await c.sandbox('logs-follow');
    await s.must(['run', 'ticker', '--image=busybox', '--restart=Never', '--', 'sh', '-c', 'for i in 1 2 3; do echo tick $i; sleep 0.2; done']);
    await c.until('ticker running', () => ['Running', 'Succeeded'].includes(pod(s, 'ticker')?.status?.phase));
    expectResult(await s.kubectl(version, ['logs', '-f', 'ticker']), { code: 0, stdout: 'tick 1\ntick 2\ntick 3\n' });
  });

  it.each(EDGE_VERSIONS)('%s a pod with two containers: the first by default, -c picks', async (version) => {
    const s = await c.sandbox('logs-containers');
    await s.apply(text`
      apiVersion: v1
      kind: Pod
      metadata: {name: pair}
      spec:
        restartPolicy: Never
        containers:
        - {name: first, image: busybox, command: [sh, -c, "echo from first"]}
        - {name: second, image: busybox, command: [sh, -c, "echo from second"]}
    `);
    await c.until('pair done', () => pod(s, 'pair')?.status?.phase === 'Succeeded');
    const results = [await s.kubectl(version, ['logs', 'pair']), await s.kubectl(version, ['logs', 'pair', '-c', 'second']), await s.kubectl(version, ['logs', 'pair', '-c', 'third'])];
    expect(results).toEqual([
      { code: 0, stdout: 'from first\n', stderr: 'Defaulted container "first" out of: first, second\n' },
      { code: 0, stdout: 'from second\n', stderr: '' },
      { code: 1, stdout: '', stderr: 'error: container third is not valid for pod pair\n' },
    ]);
  });

  it.each(EDGE_VERSIONS)('%s of a deployment: one of its pods', async (version) => {
    const s = await c.sandbox('logs-deploy');
    await s.must(['create', 'deployment', 'hello', '--image=busybox', '--replicas=2', '--', 'sh', '-c', 'echo hello from $HOSTNAME; sleep 3600']);
    await available(s, 'hello', 2);
    // A container can be Ready a moment before its first line is written, on a real node too.
    for (let i = 0; i < 100 && !(await s.must(['logs', 'deployment/hello'])); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    const result = await s.kubectl(version, ['logs', 'deployment/hello']);
    expectResult(result, { code: 0, stdout: /^hello from hello-[bcdfghjklmnpqrstvwxz2456789]+-[bcdfghjklmnpqrstvwxz2456789]{5}\n$/, stderr: /^Found 2 pods, using pod\/hello-\S+\n$/ });
  });

  it.each(EDGE_VERSIONS)('%s a pod that does not exist', async (version) => {
    const s = await c.sandbox('logs-missing');
    // kubectl 1.27 prints the server's message; 1.33 words it itself and names the namespace.
    const stderr = minor(version) === 27 ? 'Error from server (NotFound): pods "ghost" not found\n' : `error: error from server (NotFound): pods "ghost" not found in namespace "${s.namespace}"\n`;
    expectResult(await s.kubectl(version, ['logs', 'ghost']), { code: 1, stdout: '', stderr });
  });
});

describe.concurrent('kubectl exec', () => {
  async function shell(s: Sandbox): Promise<void> {
    await s.apply(text`
      apiVersion: v1
      kind: Pod
      metadata: {name: shell}
      spec:
        containers:
        - name: box
          image: busybox
          command: [sleep, "3600"]
          env: [{name: MODE, value: lab}]
    `);
    await ready(s, 'shell');
  }

  it.each(ALL_VERSIONS)('%s runs a command and returns its exit code', async (version) => {
    const s = await c.sandbox('exec');
    await shell(s);
    expectResult(await s.kubectl(version, ['exec', 'shell', '--', 'sh', '-c', 'echo hi; echo $MODE; exit 4']), { code: 4, stdout: 'hi\nlab\n', stderr: 'command terminated with exit code 4\n' });
  });

  it.each(ALL_VERSIONS)('%s -i passes stdin', async (version) => {
    const s = await c.sandbox('exec-stdin');
    await shell(s);
    expectResult(await s.kubectl(version, ['exec', '-i', 'shell', '--', 'wc', '-l'], { stdin: 'a\nb\nc\n' }), { code: 0, stdout: /^\s*3\n$/ });
  });

  it.each(ALL_VERSIONS)('%s sees the ServiceAccount volume', async (version) => {
    const s = await c.sandbox('exec-token');
    await shell(s);
    expectResult(await s.kubectl(version, ['exec', 'shell', '--', 'cat', '/var/run/secrets/kubernetes.io/serviceaccount/namespace']), { code: 0, stdout: s.namespace });
  });

  it.each(ALL_VERSIONS)('%s a container the pod does not have', async (version) => {
    const s = await c.sandbox('exec-container');
    await shell(s);
    expectResult(await s.kubectl(version, ['exec', 'shell', '-c', 'nope', '--', 'ls']), { code: 1, stdout: '', stderr: 'Error from server (BadRequest): container nope is not valid for pod shell\n' });
  });
});

describe.concurrent('Jobs and CronJobs', () => {
  it.each(EDGE_VERSIONS)('%s a Job completes: wait --for=condition=Complete, the table, its logs', async (version) => {
    const s = await c.sandbox('job-complete');
    await s.must(['create', 'job', 'once', '--image=busybox', '--', 'sh', '-c', 'echo done']);
    expectResult(await s.kubectl(version, ['wait', '--for=condition=Complete', 'job/once', '--timeout=60s']), { code: 0, stdout: 'job.batch/once condition met\n' });
    expectResult(
      await s.kubectl(version, ['get', 'jobs']),
      { code: 0, stdout: 'NAME   STATUS     COMPLETIONS   DURATION   AGE\nonce   Complete   1/1           <age>      <age>\n' },
      table,
    );
    expectResult(await s.kubectl(version, ['logs', 'job/once']), { code: 0, stdout: 'done\n' });
  });

  it.each(EDGE_VERSIONS)('%s a Job that keeps failing: Failed with BackoffLimitExceeded', async (version) => {
    const s = await c.sandbox('job-failed');
    await s.apply(text`
      apiVersion: batch/v1
      kind: Job
      metadata: {name: doomed}
      spec:
        backoffLimit: 1
        template:
          spec:
            restartPolicy: Never
            containers: [{name: app, image: busybox, command: [sh, -c, "exit 2"]}]
    `);
    expectResult(await s.kubectl(version, ['wait', '--for=condition=Failed', 'job/doomed', '--timeout=60s']), { code: 0, stdout: 'job.batch/doomed condition met\n' });
    const condition = ((c.get('batch', 'v1', 'jobs', s.namespace, 'doomed')?.status as { conditions?: Array<Record<string, string>> } | undefined)?.conditions ?? []).find((cond) => cond['type'] === 'Failed');
    expect([condition?.['reason'], condition?.['message']]).toEqual(['BackoffLimitExceeded', 'Job has reached the specified backoff limit']);
    expectResult(
      await s.kubectl(version, ['get', 'jobs']),
      { code: 0, stdout: 'NAME     STATUS   COMPLETIONS   DURATION   AGE\ndoomed   Failed   0/1           <age>      <age>\n' },
      table,
    );
  });

  it.each(EDGE_VERSIONS)('%s a CronJob: the table, and a Job started from it by hand', async (version) => {
    const s = await c.sandbox('cronjob');
    await s.must(['create', 'cronjob', 'nightly', '--image=busybox', '--schedule=0 3 * * *', '--', 'sh', '-c', 'echo nightly run']);
    expectResult(
      await s.kubectl(version, ['get', 'cronjobs']),
      { code: 0, stdout: 'NAME      SCHEDULE    TIMEZONE   SUSPEND   ACTIVE   LAST SCHEDULE   AGE\nnightly   0 3 * * *   <none>     False     0        <none>          <age>\n' },
      table,
    );
    expectResult(await s.kubectl(version, ['create', 'job', 'by-hand', '--from=cronjob/nightly']), { code: 0, stdout: 'job.batch/by-hand created\n' });
    expectResult(await s.kubectl(version, ['wait', '--for=condition=Complete', 'job/by-hand', '--timeout=60s']), { code: 0, stdout: 'job.batch/by-hand condition met\n' });
  });
});

describe.concurrent('StatefulSets', () => {
  const statefulSet = text`
    apiVersion: v1
    kind: Service
    metadata: {name: db}
    spec: {clusterIP: None, selector: {app: db}, ports: [{port: 5432}]}
    ---
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: db}
    spec:
      serviceName: db
      replicas: 2
      selector: {matchLabels: {app: db}}
      template:
        metadata: {labels: {app: db}}
        spec:
          containers: [{name: db, image: busybox, command: [sleep, "3600"]}]
      volumeClaimTemplates:
      - metadata: {name: data}
        spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}
  `;

  it.each(EDGE_VERSIONS)('%s ordered pods with their claims; rollout status', async (version) => {
    const s = await c.sandbox('sts');
    await s.apply(statefulSet);
    expectRolledOut(await s.kubectl(version, ['rollout', 'status', 'statefulset/db', '--timeout=60s']), 'partitioned roll out complete: 2 new pods have been updated...');
    expectResult(
      await s.kubectl(version, ['get', 'pods,pvc', '-o', 'custom-columns=KIND:.kind,NAME:.metadata.name,STATUS:.status.phase']),
      { code: 0, stdout: 'KIND                    NAME        STATUS\nPod                     db-0        Running\nPod                     db-1        Running\nPersistentVolumeClaim   data-db-0   Bound\nPersistentVolumeClaim   data-db-1   Bound\n' },
      table,
    );
  });

  it.each(EDGE_VERSIONS)('%s scaled down from the highest ordinal, claims kept', async (version) => {
    const s = await c.sandbox('sts-scale');
    await s.apply(statefulSet);
    await c.until('db-1 ready', () => pod(s, 'db-1')?.status?.conditions?.some((cond: { type: string; status: string }) => cond.type === 'Ready' && cond.status === 'True'));
    expectResult(await s.kubectl(version, ['scale', 'statefulset/db', '--replicas=1']), { code: 0, stdout: 'statefulset.apps/db scaled\n' });
    await c.until('db-1 gone', () => !pod(s, 'db-1'));
    expect(c.list('', 'v1', 'persistentvolumeclaims', s.namespace).map((claim) => claim.metadata.name).sort()).toEqual(['data-db-0', 'data-db-1']);
  });
});

describe.concurrent('failing pods', () => {
  it.each(EDGE_VERSIONS)('%s an image typo: ErrImagePull, then ImagePullBackOff, with the pull error event', async (version) => {
    const s = await c.sandbox('image-typo');
    await s.must(['run', 'typo', '--image=ngnix']);
    await c.until('ImagePullBackOff', () => pod(s, 'typo')?.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImagePullBackOff');
    expectResult(await s.kubectl(version, ['get', 'pod', 'typo']), { code: 0, stdout: 'NAME   READY   STATUS             RESTARTS   AGE\ntypo   0/1     ImagePullBackOff   0          <age>\n' }, table);
    const events = await s.kubectl(version, ['get', 'events', '--field-selector', 'involvedObject.name=typo,reason=Failed', '-o', 'custom-columns=MESSAGE:.message', '--no-headers']);
    expect(events.stdout.split('\n')).toEqual(
      expect.arrayContaining([
        'Failed to pull image "ngnix": rpc error: code = Unknown desc = failed to pull and unpack image "docker.io/library/ngnix:latest": failed to resolve reference "docker.io/library/ngnix:latest": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed',
        'Error: ErrImagePull',
      ]),
    );
  });

  it.each(EDGE_VERSIONS)('%s a container that exits: CrashLoopBackOff, restarts, logs --previous', async (version) => {
    const s = await c.sandbox('crash-loop');
    await s.must(['run', 'crash', '--image=busybox', '--', 'sh', '-c', 'echo boom; exit 1']);
    await c.until('CrashLoopBackOff after a restart', () => {
      const status = pod(s, 'crash')?.status?.containerStatuses?.[0];
      return status?.state?.waiting?.reason === 'CrashLoopBackOff' && status.restartCount >= 1;
    });
    const result = await s.kubectl(version, ['get', 'pod', 'crash']);
    // With time sped up the container may be between back-offs (Running) when kubectl looks.
    expectResult(result, { code: 0, stdout: /^NAME +READY +STATUS +RESTARTS +AGE\ncrash +[01]\/1 +(CrashLoopBackOff|Error|Running) +\d+ \(\d+s ago\) +\d+s\n$/ });
    expectResult(await s.kubectl(version, ['logs', 'crash', '--previous']), { code: 0, stdout: 'boom\n' });
    const terminated = pod(s, 'crash')?.status?.containerStatuses?.[0]?.lastState?.terminated;
    expect([terminated?.exitCode, terminated?.reason]).toEqual([1, 'Error']);
  });

  it.each(EDGE_VERSIONS)('%s a missing ConfigMap key: CreateContainerConfigError', async (version) => {
    const s = await c.sandbox('config-error');
    await s.apply(text`
      apiVersion: v1
      kind: Pod
      metadata: {name: needs-config}
      spec:
        containers:
        - name: app
          image: busybox
          command: [sleep, "3600"]
          env: [{name: MODE, valueFrom: {configMapKeyRef: {name: settings, key: mode}}}]
    `);
    const waiting = await c.until('CreateContainerConfigError', () => {
      const state = pod(s, 'needs-config')?.status?.containerStatuses?.[0]?.state?.waiting;
      return state?.reason === 'CreateContainerConfigError' ? state : undefined;
    });
    expect(waiting.message).toBe('configmap "settings" not found');
    expectResult(
      await s.kubectl(version, ['get', 'pod', 'needs-config']),
      { code: 0, stdout: 'NAME           READY   STATUS                       RESTARTS   AGE\nneeds-config   0/1     CreateContainerConfigError   0          <age>\n' },
      table,
    );
  });
});

describe.concurrent('HorizontalPodAutoscaler', () => {
  it.each(EDGE_VERSIONS)('%s autoscale creates an HPA that kubectl lists with its target', async (version) => {
    const s = await c.sandbox('hpa');
    await s.must(['create', 'deployment', 'web', '--image=nginx']);
    await s.must(['set', 'resources', 'deployment/web', '--requests=cpu=100m']);
    expectResult(await s.kubectl(version, ['autoscale', 'deployment', 'web', '--min=1', '--max=3', '--cpu-percent=50']), { code: 0, stdout: 'horizontalpodautoscaler.autoscaling/web autoscaled\n' });
    const result = await s.kubectl(version, ['get', 'hpa', 'web']);
    expectResult(result, { code: 0, stdout: /^NAME +REFERENCE +TARGETS +MINPODS +MAXPODS +REPLICAS +AGE\nweb +Deployment\/web +cpu: (<unknown>|\d+%)\/50% +1 +3 +[01] +\d+s\n$/ });
    expect(c.get('autoscaling', 'v2', 'horizontalpodautoscalers', s.namespace, 'web')?.spec).toMatchObject({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: 1,
      maxReplicas: 3,
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } }],
    });
  });
});
