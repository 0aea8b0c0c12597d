// kubernetes.io "StatefulSet Basics" in order: the headless `nginx` Service and the `web`
// StatefulSet (the tutorial's web.yaml, written here), ordered creation seen through `kubectl get
// pods -w`, stable hostnames and DNS names (web-0.nginx) that survive deleting the pods, stable
// storage (each pod's index.html on its own claim), ordered scale up and reverse-ordered scale
// down, rolling update in reverse ordinal order, a staged update with a partition, and
// non-cascading then cascading delete. The "second terminal" watching pods is a kubectl watch
// started before the command and read when it ends.
import { describe, expect, it } from 'vitest';
import { type Sandbox, useConformanceCluster } from '../conformance/harness.ts';
import { expectResult, table, text } from '../conformance/output.ts';
import { KUBECTL, clientPod, eventually, firstRow, isReady, watch, watchRows } from './support.ts';

const c = useConformanceCluster();

const webYaml = (image: string) => text`
  apiVersion: v1
  kind: Service
  metadata:
    name: nginx
    labels:
      app: nginx
  spec:
    ports:
    - port: 80
      name: web
    clusterIP: None
    selector:
      app: nginx
  ---
  apiVersion: apps/v1
  kind: StatefulSet
  metadata:
    name: web
  spec:
    serviceName: "nginx"
    replicas: 2
    selector:
      matchLabels:
        app: nginx
    template:
      metadata:
        labels:
          app: nginx
      spec:
        containers:
        - name: nginx
          image: ${image}
          ports:
          - containerPort: 80
            name: web
          volumeMounts:
          - name: www
            mountPath: /usr/share/nginx/html
    volumeClaimTemplates:
    - metadata:
        name: www
      spec:
        accessModes: [ "ReadWriteOnce" ]
        resources:
          requests:
            storage: 1Gi
`;

type Json = Record<string, any>;

/** `kubectl get pods -w -l app=nginx` in a second terminal while `act` runs, until `done` holds. */
async function watching(s: Sandbox, act: () => Promise<void>, done: () => boolean): Promise<Array<[string, string, string]>> {
  const terminal = watch(s, ['pods', '-l', 'app=nginx']);
  try {
    await terminal.listed;
    await act();
    await c.until('the watched change', () => done(), 90_000);
    // The last events reach the watch a moment after the objects change.
    await new Promise((resolve) => setTimeout(resolve, 500));
    return watchRows(terminal.output());
  } finally {
    terminal.stop();
  }
}

function pods(s: Sandbox): Json[] {
  return c.list('', 'v1', 'pods', s.namespace).filter((p) => p.metadata.labels?.['app'] === 'nginx') as Json[];
}

function readyPods(s: Sandbox, names: string[]): boolean {
  const live = pods(s).filter((p) => !p['metadata'].deletionTimestamp);
  return live.length === names.length && names.every((name) => isReady(live.find((p) => p['metadata'].name === name)));
}

const image = (s: Sandbox, name: string) => (c.get('', 'v1', 'pods', s.namespace, name) as Json | undefined)?.['spec'].containers[0].image as string | undefined;

// One learner's session in the tutorial's order: each section a case, run one after another on
// the same namespace (a case fails when the one before it left the set elsewhere).
describe('StatefulSet Basics', () => {
  let s: Sandbox;
  let file = '';
  const k = (...args: string[]) => s.kubectl(KUBECTL, args, { timeoutMs: 90_000 });
  const deletePods = async (...args: string[]) => {
    const deleted = await k('delete', ...args);
    expect(deleted.code).toBe(0);
    return deleted.stdout;
  };
  const images = async () => Promise.all([0, 1, 2].map(async (p) => (await k('get', 'po', `web-${p}`, '--template', '{{range $i, $c := .spec.containers}}{{$c.image}}{{end}}')).stdout));

  it('creating a StatefulSet: ordered pod creation, stable network identities', { timeout: 180_000 }, async () => {
    s = await c.sandbox('statefulset');
    file = await s.writeFile('web.yaml', webYaml('registry.k8s.io/nginx-slim:0.21'));

    // Creating a StatefulSet: web-1 is not launched until web-0 is Running and Ready.
    let applied = { code: -1, stdout: '', stderr: '' };
    const created = await watching(
      s,
      async () => {
        applied = await k('apply', '-f', file);
      },
      () => readyPods(s, ['web-0', 'web-1']),
    );
    expectResult(applied, { code: 0, stdout: 'service/nginx created\nstatefulset.apps/web created\n' });
    expect(firstRow(created, 'web-0', 'Pending')).toBeLessThan(firstRow(created, 'web-0', 'Running', '1/1'));
    expect(firstRow(created, 'web-0', 'Running', '1/1')).toBeLessThan(firstRow(created, 'web-1', 'Pending'));
    expect(firstRow(created, 'web-1', 'Pending')).toBeLessThan(firstRow(created, 'web-1', 'Running', '1/1'));
    expectResult(await k('get', 'service', 'nginx'), { code: 0, stdout: 'NAME    TYPE        CLUSTER-IP   EXTERNAL-IP   PORT(S)   AGE\nnginx   ClusterIP   None         <none>        80/TCP    <age>\n' }, table);
    expectResult(await k('get', 'statefulset', 'web'), { code: 0, stdout: 'NAME   READY   AGE\nweb    2/2     <age>\n' }, table);
    expectResult(await k('get', 'pods', '-l', 'app=nginx'), { code: 0, stdout: 'NAME    READY   STATUS    RESTARTS   AGE\nweb-0   1/1     Running   0          <age>\nweb-1   1/1     Running   0          <age>\n' }, table);

    // Using stable network identities.
    for (const i of [0, 1]) expectResult(await k('exec', `web-${i}`, '--', 'sh', '-c', 'hostname'), { code: 0, stdout: `web-${i}\n` });
    // The tutorial types both lookups in `kubectl run -i --tty --image busybox:1.28 dns-test
    // --restart=Never --rm`; here they run with exec in a busybox:1.28 pod (an attach that starts
    // after a short command printed would miss its first lines, on any cluster).
    await clientPod(c, s, 'dns-test', 'busybox:1.28');
    const dnsTest = async () => {
      const answers: string[] = [];
      for (const i of [0, 1]) {
        const ip = (c.get('', 'v1', 'pods', s.namespace, `web-${i}`) as Json)['status'].podIP as string;
        // A pod that just became Ready is in DNS once its endpoints are: ask again until it is, as a
        // learner would (a busy machine's DNS also answers a first query late).
        const lookup = await eventually(`web-${i}.nginx at ${ip}`, async () => {
          const answer = await k('exec', 'dns-test', '--', 'nslookup', `web-${i}.nginx`);
          return answer.stdout.includes(`Address 1: ${ip} `) && answer.stdout.includes(' kube-dns.kube-system.svc.cluster.local\n') ? answer : undefined;
        });
        expectResult(lookup, {
          code: 0,
          stdout: `Server:    10.96.0.10\nAddress 1: 10.96.0.10 kube-dns.kube-system.svc.cluster.local\n\nName:      web-${i}.nginx\nAddress 1: ${ip} web-${i}.nginx.${s.namespace}.svc.cluster.local\n`,
        });
        answers.push(ip);
      }
      return answers;
    };
    const before = await dnsTest();
    // Typed in the pod's sh, as the tutorial types them: busybox's shell finds 1.28's nslookup too.
    const typed = await s.kubectl(KUBECTL, ['exec', '-i', 'dns-test', '--', 'sh'], { stdin: 'nslookup web-0.nginx\nnslookup web-1.nginx\n', timeoutMs: 60_000 });
    expectResult(typed, {
      code: 0,
      stdout: [0, 1]
        .map((i) => `Server:    10.96.0.10\nAddress 1: 10.96.0.10 kube-dns.kube-system.svc.cluster.local\n\nName:      web-${i}.nginx\nAddress 1: ${before[i]} web-${i}.nginx.${s.namespace}.svc.cluster.local\n`)
        .join(''),
    });

    // kubectl then waits for both pods to be gone (the StatefulSet recreates them at once).
    expect(await deletePods('pod', '-l', 'app=nginx')).toBe('pod "web-0" deleted\npod "web-1" deleted\n');
    await c.until('web-0 and web-1 back, Running and Ready', () => readyPods(s, ['web-0', 'web-1']), 60_000);
    for (const i of [0, 1]) expectResult(await k('exec', `web-${i}`, '--', 'sh', '-c', 'hostname'), { code: 0, stdout: `web-${i}\n` });
    // The tutorial looks both names up again and finds the new pods' addresses.
    const after = await dnsTest();
    expect(after).not.toEqual(before);

  });

  it('writing to stable storage: each pod keeps its index.html', { timeout: 180_000 }, async () => {
    expectResult(
      await k('get', 'pvc', '-l', 'app=nginx'),
      {
        code: 0,
        stdout: /^NAME +STATUS +VOLUME +CAPACITY +ACCESS MODES +STORAGECLASS +VOLUMEATTRIBUTESCLASS +AGE\nwww-web-0 +Bound +pvc-[0-9a-f-]{36} +1Gi +RWO +\S+ +<unset> +\d+s\nwww-web-1 +Bound +pvc-[0-9a-f-]{36} +1Gi +RWO +\S+ +<unset> +\d+s\n$/,
      },
    );
    for (const i of [0, 1]) expect((await k('exec', `web-${i}`, '--', 'sh', '-c', 'echo $(hostname) > /usr/share/nginx/html/index.html')).code).toBe(0);
    for (const i of [0, 1]) expectResult(await k('exec', '-i', `web-${i}`, '--', 'curl', '-s', 'localhost'), { code: 0, stdout: `web-${i}\n` });
    expect(await deletePods('pod', '-l', 'app=nginx')).toBe('pod "web-0" deleted\npod "web-1" deleted\n');
    await c.until('web-0 and web-1 back again', () => readyPods(s, ['web-0', 'web-1']), 60_000);
    for (const i of [0, 1]) expectResult(await k('exec', '-i', `web-${i}`, '--', 'curl', '-s', 'localhost'), { code: 0, stdout: `web-${i}\n` });

  });

  it('scaling up in order and down in reverse order; the claims stay', { timeout: 180_000 }, async () => {
    // Scaling up: web-2, web-3, web-4 one after another, each once its predecessor is Ready.
    let scaled = { code: -1, stdout: '', stderr: '' };
    const up = await watching(
      s,
      async () => {
        scaled = await k('scale', 'sts', 'web', '--replicas=5');
      },
      () => readyPods(s, ['web-0', 'web-1', 'web-2', 'web-3', 'web-4']),
    );
    expectResult(scaled, { code: 0, stdout: 'statefulset.apps/web scaled\n' });
    expect(firstRow(up, 'web-2', 'Running', '1/1')).toBeLessThan(firstRow(up, 'web-3', 'Pending'));
    expect(firstRow(up, 'web-3', 'Running', '1/1')).toBeLessThan(firstRow(up, 'web-4', 'Pending'));

    // Scaling down: web-4 ends before web-3 is touched.
    let patched = { code: -1, stdout: '', stderr: '' };
    const down = await watching(
      s,
      async () => {
        patched = await k('patch', 'sts', 'web', '-p', '{"spec":{"replicas":3}}');
      },
      () => pods(s).length === 3,
    );
    expectResult(patched, { code: 0, stdout: 'statefulset.apps/web patched\n' });
    expect(firstRow(down, 'web-4', 'Terminating')).toBeLessThan(firstRow(down, 'web-3', 'Terminating'));
    // The claims stay.
    expect((await k('get', 'pvc', '-l', 'app=nginx', '-o', 'name')).stdout).toBe(
      ['www-web-0', 'www-web-1', 'www-web-2', 'www-web-3', 'www-web-4'].map((name) => `persistentvolumeclaim/${name}\n`).join(''),
    );

  });

  it('updating: rolling update in reverse ordinal order, staged with a partition, canary, phased', { timeout: 240_000 }, async () => {
    // Rolling update, in reverse ordinal order.
    // RollingUpdate is apps/v1's default (the tutorial dates from apps/v1beta1, whose default was OnDelete).
    expectResult(await k('patch', 'statefulset', 'web', '-p', '{"spec":{"updateStrategy":{"type":"RollingUpdate"}}}'), { code: 0, stdout: 'statefulset.apps/web patched (no change)\n' });
    const rolled = await watching(
      s,
      async () => {
        expectResult(await k('patch', 'statefulset', 'web', '--type=json', '-p=[{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value":"registry.k8s.io/nginx-slim:0.24"}]'), {
          code: 0,
          stdout: 'statefulset.apps/web patched\n',
        });
      },
      () => [0, 1, 2].every((i) => image(s, `web-${i}`) === 'registry.k8s.io/nginx-slim:0.24') && readyPods(s, ['web-0', 'web-1', 'web-2']),
    );
    expect(firstRow(rolled, 'web-2', 'Terminating')).toBeLessThan(firstRow(rolled, 'web-1', 'Terminating'));
    expect(firstRow(rolled, 'web-1', 'Terminating')).toBeLessThan(firstRow(rolled, 'web-0', 'Terminating'));
    expect(await images()).toEqual(['registry.k8s.io/nginx-slim:0.24', 'registry.k8s.io/nginx-slim:0.24', 'registry.k8s.io/nginx-slim:0.24']);
    expect((await k('rollout', 'status', 'sts/web')).stdout).toMatch(/partitioned roll out complete: 3 new pods have been updated...\n$|statefulset rolling update complete 3 pods at revision web-\w+...\n$/);

    // Staging an update with a partition; a canary below it; then the phased roll out.
    await k('patch', 'statefulset', 'web', '-p', '{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":3}}}}');
    await k('patch', 'statefulset', 'web', '--type=json', '-p=[{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value":"registry.k8s.io/nginx-slim:0.21"}]');
    expect(await deletePods('po', 'web-2')).toBe('pod "web-2" deleted\n');
    await c.until('web-2 back', () => readyPods(s, ['web-0', 'web-1', 'web-2']), 60_000);
    expect(image(s, 'web-2')).toBe('registry.k8s.io/nginx-slim:0.24');
    await k('patch', 'statefulset', 'web', '-p', '{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":2}}}}');
    await c.until('the canary web-2 at 0.21', () => image(s, 'web-2') === 'registry.k8s.io/nginx-slim:0.21' && readyPods(s, ['web-0', 'web-1', 'web-2']), 60_000);
    expect(await deletePods('po', 'web-1')).toBe('pod "web-1" deleted\n');
    await c.until('web-1 back', () => readyPods(s, ['web-0', 'web-1', 'web-2']), 60_000);
    expect(image(s, 'web-1')).toBe('registry.k8s.io/nginx-slim:0.24');
    await k('patch', 'statefulset', 'web', '-p', '{"spec":{"updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":0}}}}');
    await c.until('all at 0.21', () => [0, 1, 2].every((i) => image(s, `web-${i}`) === 'registry.k8s.io/nginx-slim:0.21') && readyPods(s, ['web-0', 'web-1', 'web-2']), 90_000);
    expect(await images()).toEqual(['registry.k8s.io/nginx-slim:0.21', 'registry.k8s.io/nginx-slim:0.21', 'registry.k8s.io/nginx-slim:0.21']);

  });

  it('deleting: non-cascading, then cascading; recreated pods find their storage', { timeout: 240_000 }, async () => {
    // Non-cascading delete: the pods stay; web-0 deleted is not relaunched until the StatefulSet is back.
    expectResult(await k('delete', 'statefulset', 'web', '--cascade=orphan'), { code: 0, stdout: 'statefulset.apps "web" deleted\n' });
    expectResult(await k('get', 'pods', '-l', 'app=nginx'), {
      code: 0,
      stdout: 'NAME    READY   STATUS    RESTARTS   AGE\nweb-0   1/1     Running   0          <age>\nweb-1   1/1     Running   0          <age>\nweb-2   1/1     Running   0          <age>\n',
    }, table);
    expect(await deletePods('pod', 'web-0')).toBe('pod "web-0" deleted\n');
    await c.until('web-0 gone', () => !c.get('', 'v1', 'pods', s.namespace, 'web-0'));
    expectResult(await k('get', 'pods', '-l', 'app=nginx'), { code: 0, stdout: 'NAME    READY   STATUS    RESTARTS   AGE\nweb-1   1/1     Running   0          <age>\nweb-2   1/1     Running   0          <age>\n' }, table);
    const reapplied = await k('apply', '-f', await s.writeFile('web.yaml', webYaml('registry.k8s.io/nginx-slim:0.21')));
    expectResult(reapplied, { code: 0, stdout: 'service/nginx unchanged\nstatefulset.apps/web created\n' });
    // web-0 relaunched, web-1 adopted, web-2 (beyond replicas: 2) terminated.
    await c.until('web-0 and web-1 only', () => readyPods(s, ['web-0', 'web-1']), 90_000);
    for (const i of [0, 1]) expectResult(await k('exec', '-i', `web-${i}`, '--', 'curl', '-s', 'localhost'), { code: 0, stdout: `web-${i}\n` });

    // Cascading delete, then the Service by hand; recreated, the pods find their storage again.
    expectResult(await k('delete', 'statefulset', 'web'), { code: 0, stdout: 'statefulset.apps "web" deleted\n' });
    await c.until('no pods left', () => pods(s).length === 0, 60_000);
    expectResult(await k('delete', 'service', 'nginx'), { code: 0, stdout: 'service "nginx" deleted\n' });
    expectResult(await k('apply', '-f', file), { code: 0, stdout: 'service/nginx created\nstatefulset.apps/web created\n' });
    await c.until('web-0 and web-1 recreated', () => readyPods(s, ['web-0', 'web-1']), 90_000);
    for (const i of [0, 1]) expectResult(await k('exec', '-i', `web-${i}`, '--', 'curl', '-s', 'localhost'), { code: 0, stdout: `web-${i}\n` });
  });
});
