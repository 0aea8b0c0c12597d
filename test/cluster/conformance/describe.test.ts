// kubectl describe for pods, deployments, services, nodes and namespaces: every section a real
// cluster fills (the ServiceAccount volume, tolerations, events from the scheduler and kubelet,
// endpoints, quotas and limits), with timestamps, ages and pull durations normalised.
import { describe as group, expect, it } from 'vitest';
import { EDGE_VERSIONS, minor, useConformanceCluster, type Sandbox } from './harness.ts';
import { describe, expectResult, names, text } from './output.ts';

const c = useConformanceCluster();

/** Pull durations are the kubelet's timing, as ages are. */
const pulls = (out: string) => out.replace(/ in [\d.]+m?s \([\d.]+m?s including waiting\)/g, ' in <duration> (<duration> including waiting)');

async function readyPod(s: Sandbox, name: string): Promise<Record<string, any>> {
  return c.until(`pod ${name} Running and Ready`, () => {
    const pod = c.get('', 'v1', 'pods', s.namespace, name) as Record<string, any> | undefined;
    const ready = pod?.status?.conditions?.some((cond: { type: string; status: string }) => cond.type === 'Ready' && cond.status === 'True');
    return pod?.status?.phase === 'Running' && ready ? pod : undefined;
  });
}

group.concurrent('kubectl describe pod', () => {
  it.each(EDGE_VERSIONS)('%s a running pod: containers, the ServiceAccount volume, tolerations and its events', async (version) => {
    const s = await c.sandbox('describe-pod');
    await s.must(['run', 'web', '--image=nginx', '--labels=app=web', '--port=80']);
    const pod = await readyPod(s, 'web');
    const status = pod.status;
    const volume = pod.spec.volumes[0].name;
    const node = pod.spec.nodeName;
    const result = await s.kubectl(version, ['describe', 'pod', 'web']);
    // The source's optional is unset: kubectl 1.27 prints the nil pointer, later ones false.
    const optional = minor(version) >= 28 ? 'Optional:  false' : 'ConfigMapOptional:  <nil>';
    expectResult(
      result,
      {
        code: 0,
        stdout: text`
          Name:             web
          Namespace:        ${s.namespace}
          Priority:         0
          Service Account:  default
          Node:             ${node}/${status.hostIP}
          Start Time:       <timestamp>
          Labels:           app=web
          Annotations:      <none>
          Status:           Running
          IP:               ${status.podIP}
          IPs:
            IP:  ${status.podIP}
          Containers:
            web:
              Container ID:   ${status.containerStatuses[0].containerID}
              Image:          nginx
              Image ID:       ${status.containerStatuses[0].imageID}
              Port:           80/TCP
              Host Port:      0/TCP
              State:          Running
                Started:      <timestamp>
              Ready:          True
              Restart Count:  0
              Environment:    <none>
              Mounts:
                /var/run/secrets/kubernetes.io/serviceaccount from ${volume} (ro)
          Conditions:
            Type                        Status
            PodReadyToStartContainers   True
            Initialized                 True
            Ready                       True
            ContainersReady             True
            PodScheduled                True
          Volumes:
            ${volume}:
              Type:                    Projected (a volume that contains injected data from multiple sources)
              TokenExpirationSeconds:  3607
              ConfigMapName:           kube-root-ca.crt
              ${optional}
              DownwardAPI:             true
          QoS Class:                   BestEffort
          Node-Selectors:              <none>
          Tolerations:                 node.kubernetes.io/not-ready:NoExecute op=Exists for 300s
                                       node.kubernetes.io/unreachable:NoExecute op=Exists for 300s
          Events:
            Type    Reason     Age   From               Message
            ----    ------     ----  ----               -------
            Normal  Scheduled  <age>  default-scheduler  Successfully assigned ${s.namespace}/web to ${node}
            Normal  Pulling    <age>  kubelet            Pulling image "nginx"
            Normal  Pulled     <age>  kubelet            Successfully pulled image "nginx" in <duration> (<duration> including waiting). Image size: 72195292 bytes.
            Normal  Created    <age>  kubelet            Created container: web
            Normal  Started    <age>  kubelet            Started container web
        `,
      },
      (out) => describe(pulls(out)),
    );
    expect(volume).toMatch(/^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it.each(EDGE_VERSIONS)('%s a pod that cannot be scheduled: Pending with the FailedScheduling event', async (version) => {
    const s = await c.sandbox('describe-pending');
    await s.apply(text`
      apiVersion: v1
      kind: Pod
      metadata: {name: big}
      spec:
        containers:
        - name: app
          image: nginx
          resources: {requests: {cpu: "64"}}
    `);
    await c.until('the FailedScheduling event', () =>
      c.list('', 'v1', 'events', s.namespace).some((event) => (event as Record<string, any>).reason === 'FailedScheduling'),
    );
    const result = await s.kubectl(version, ['describe', 'pod', 'big']);
    expect(result.code).toBe(0);
    const out = describe(result.stdout);
    expect(out).toContain('Node:  <none>\n');
    expect(out).toContain('Status:  Pending\n');
    expect(out).toContain('Conditions:\n  Type  Status\n  PodScheduled  False\n');
    expect(out).toContain('QoS Class:  Burstable\n');
    expect(out).toMatch(
      /\n {2}Warning {2}FailedScheduling {2}<age> {2}default-scheduler {2}0\/3 nodes are available: 3 Insufficient cpu\. preemption: 0\/3 nodes are available: 3 No preemption victims found for incoming pod\.\n$/,
    );
  });
});

group.concurrent('kubectl describe deployment', () => {
  it.each(EDGE_VERSIONS)('%s replicas, strategy, the pod template, conditions, ReplicaSets and scaling events', async (version) => {
    const s = await c.sandbox('describe-deploy');
    await s.must(['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=2']);
    await c.until('web available', () => (c.get('apps', 'v1', 'deployments', s.namespace, 'web')?.status as { availableReplicas?: number } | undefined)?.availableReplicas === 2);
    const result = await s.kubectl(version, ['describe', 'deployment', 'web']);
    // kubectl 1.27 does not print Node-Selectors and Tolerations in the pod template section; later ones do.
    const templateScheduling = minor(version) >= 30 ? '\n            Node-Selectors:  <none>\n            Tolerations:     <none>' : '';
    expectResult(
      result,
      {
        code: 0,
        stdout: text`
          Name:                   web
          Namespace:              ${s.namespace}
          CreationTimestamp:      <timestamp>
          Labels:                 app=web
          Annotations:            deployment.kubernetes.io/revision: 1
          Selector:               app=web
          Replicas:               2 desired | 2 updated | 2 total | 2 available | 0 unavailable
          StrategyType:           RollingUpdate
          MinReadySeconds:        0
          RollingUpdateStrategy:  25% max unavailable, 25% max surge
          Pod Template:
            Labels:  app=web
            Containers:
             nginx:
              Image:         nginx:1.27
              Port:          <none>
              Host Port:     <none>
              Environment:   <none>
              Mounts:        <none>
            Volumes:         <none>${templateScheduling}
          Conditions:
            Type           Status  Reason
            ----           ------  ------
            Available      True    MinimumReplicasAvailable
            Progressing    True    NewReplicaSetAvailable
          OldReplicaSets:  <none>
          NewReplicaSet:   web-<hash> (2/2 replicas created)
          Events:
            Type    Reason             Age   From                   Message
            ----    ------             ----  ----                   -------
            Normal  ScalingReplicaSet  <age>  deployment-controller  Scaled up replica set web-<hash> from 0 to 2
        `,
      },
      (out) => describe(names(out, 'web')),
    );
  });
});

group.concurrent('kubectl describe service', () => {
  it.each(EDGE_VERSIONS)('%s type, addresses, ports, the endpoints of ready pods', async (version) => {
    const s = await c.sandbox('describe-svc');
    await s.must(['run', 'web', '--image=nginx', '--labels=app=web', '--port=80']);
    const pod = await readyPod(s, 'web');
    await s.must(['create', 'service', 'clusterip', 'web', '--tcp=8080:80']);
    await c.until('the endpoints', () => ((c.get('', 'v1', 'endpoints', s.namespace, 'web') as Record<string, any> | undefined)?.subsets?.length ?? 0) > 0);
    const ip = (c.get('', 'v1', 'services', s.namespace, 'web')?.spec as { clusterIP: string }).clusterIP;
    // kubectl 1.27 does not print the Internal Traffic Policy line; later ones do.
    const internalPolicy = minor(version) >= 29 ? '\n          Internal Traffic Policy:  Cluster' : '';
    // kubectl before 1.31 reads the v1 Endpoints, which a 1.33 API server answers with its deprecation warning.
    const stderr = minor(version) < 31 ? 'Warning: v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice\n' : '';
    expectResult(
      await s.kubectl(version, ['describe', 'service', 'web']),
      {
        code: 0,
        stderr,
        stdout: text`
          Name:              web
          Namespace:         ${s.namespace}
          Labels:            app=web
          Annotations:       <none>
          Selector:          app=web
          Type:              ClusterIP
          IP Family Policy:  SingleStack
          IP Families:       IPv4
          IP:                ${ip}
          IPs:               ${ip}
          Port:              8080-80  8080/TCP
          TargetPort:        80/TCP
          Endpoints:         ${pod.status.podIP}:80
          Session Affinity:  None${internalPolicy}
          Events:            <none>
        `,
      },
      describe,
    );
  });

  it.each(EDGE_VERSIONS)('%s a NodePort service without ready pods', async (version) => {
    const s = await c.sandbox('describe-nodeport');
    const nodePort = 30040 + EDGE_VERSIONS.indexOf(version);
    await s.must(['create', 'service', 'nodeport', 'np', '--tcp=80:8080', `--node-port=${nodePort}`]);
    const ip = (c.get('', 'v1', 'services', s.namespace, 'np')?.spec as { clusterIP: string }).clusterIP;
    const result = await s.kubectl(version, ['describe', 'svc', 'np']);
    expect(result.code).toBe(0);
    const out = describe(result.stdout);
    expect(out).toContain(`Type:  NodePort\n`);
    expect(out).toContain(`IP:  ${ip}\n`);
    expect(out).toContain(`Port:  80-8080  80/TCP\nTargetPort:  8080/TCP\nNodePort:  80-8080  ${nodePort}/TCP\nEndpoints:${minor(version) >= 33 ? '' : '  <none>'}\n`);
    expect(out).toContain('External Traffic Policy:  Cluster\n');
  });
});

group.concurrent('kubectl describe node', () => {
  it.each(EDGE_VERSIONS)('%s labels, conditions, addresses, capacity and system info', async (version) => {
    const result = await c.kubectl(version, ['describe', 'node', 'node-1']);
    expect(result.code).toBe(0);
    const out = describe(result.stdout);
    expect(out).toMatch(
      new RegExp(
        '^' +
          [
            'Name:  node-1',
            'Roles:  <none>',
            'Labels:  beta.kubernetes.io/arch=amd64',
            '          beta.kubernetes.io/os=linux',
            '          kubernetes.io/arch=amd64',
            '          kubernetes.io/hostname=node-1',
            '          kubernetes.io/os=linux',
            'Annotations:  node.alpha.kubernetes.io/ttl: 0',
            '          volumes.kubernetes.io/controller-managed-attach-detach: true',
            'CreationTimestamp:  <timestamp>',
            'Taints:  <none>',
            'Unschedulable:  false',
            'Lease:',
            '  HolderIdentity:  node-1',
            '  AcquireTime:  <unset>',
            '  RenewTime:  <timestamp>',
            'Conditions:',
            '  Type  Status  LastHeartbeatTime  LastTransitionTime  Reason  Message',
            '  ----  ------  -----------------  ------------------  ------  -------',
            '  MemoryPressure  False  <timestamp>  <timestamp>  KubeletHasSufficientMemory  kubelet has sufficient memory available',
            '  DiskPressure  False  <timestamp>  <timestamp>  KubeletHasNoDiskPressure  kubelet has no disk pressure',
            '  PIDPressure  False  <timestamp>  <timestamp>  KubeletHasSufficientPID  kubelet has sufficient PID available',
            '  Ready  True  <timestamp>  <timestamp>  KubeletReady  kubelet is posting ready status',
            'Addresses:',
            '  InternalIP:  172\\.18\\.0\\.\\d+',
            '  Hostname:  node-1',
            'Capacity:',
            '  cpu:  \\d+',
          ].join('\n'),
      ),
    );
    expect(out).toContain('System Info:\n');
    expect(out).toContain('  Operating System:  linux\n  Architecture:  amd64\n');
    expect(out).toMatch(/\nPodCIDR:  10\.244\.\d+\.0\/24\nPodCIDRs:  10\.244\.\d+\.0\/24\nNon-terminated Pods:  \(\d+ in total\)\n/);
    expect(out).toContain('Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n  Resource  Requests  Limits\n');
    expect(out).toMatch(/\n {2}Normal {2}NodeReady {2}<age> {2}kubelet {2}Node node-1 status is now: NodeReady\n/);
  });
});

group.concurrent('kubectl describe namespace', () => {
  it.each(EDGE_VERSIONS)('%s without quota or limits', async (version) => {
    const s = await c.sandbox('describe-ns');
    expectResult(
      await s.kubectl(version, ['describe', 'namespace', s.namespace]),
      {
        code: 0,
        stdout: text`
          Name:         ${s.namespace}
          Labels:       kubernetes.io/metadata.name=${s.namespace}
          Annotations:  <none>
          Status:       Active

          No resource quota.

          No LimitRange resource.
        `,
      },
      describe,
    );
  });

  it.each(EDGE_VERSIONS)('%s with a quota in use and a LimitRange', async (version) => {
    const s = await c.sandbox('describe-ns-quota');
    await s.apply(text`
      apiVersion: v1
      kind: ResourceQuota
      metadata: {name: small}
      spec:
        hard: {pods: "2", requests.cpu: "1", configmaps: "10"}
      ---
      apiVersion: v1
      kind: LimitRange
      metadata: {name: defaults}
      spec:
        limits:
        - type: Container
          default: {cpu: 200m}
          defaultRequest: {cpu: 100m}
          max: {cpu: "1"}
    `);
    await c.until('quota status', () => (c.get('', 'v1', 'resourcequotas', s.namespace, 'small')?.status as { used?: object } | undefined)?.used);
    await s.must(['run', 'one', '--image=nginx']);
    await c.until('quota usage of the pod', () => (c.get('', 'v1', 'resourcequotas', s.namespace, 'small')?.status as { used?: Record<string, string> } | undefined)?.used?.['pods'] === '1');
    expectResult(
      await s.kubectl(version, ['describe', 'namespace', s.namespace]),
      {
        code: 0,
        stdout: text`
          Name:         ${s.namespace}
          Labels:       kubernetes.io/metadata.name=${s.namespace}
          Annotations:  <none>
          Status:       Active

          Resource Quotas
            Name:         small
            Resource      Used  Hard
            --------      ---   ---
            configmaps    1     10
            pods          1     2
            requests.cpu  100m  1

          Resource Limits
           Type       Resource  Min  Max  Default Request  Default Limit  Max Limit/Request Ratio
           ----       --------  ---  ---  ---------------  -------------  -----------------------
           Container  cpu       -    1    100m             200m           -
        `,
      },
      describe,
    );
  });
});

group.concurrent('kubectl describe errors', () => {
  it.each(EDGE_VERSIONS)('%s a missing object', async (version) => {
    const s = await c.sandbox('describe-missing');
    expectResult(await s.kubectl(version, ['describe', 'pod', 'ghost']), { code: 1, stdout: '', stderr: 'Error from server (NotFound): pods "ghost" not found\n' });
  });
});
