// Jobs, StatefulSets and DaemonSets as kubectl shows them: completions and parallelism, the
// back-off limit and the deadline, Indexed jobs, TTL; ordinals and claims; one pod per node.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { startTestCluster, type TestCluster } from './harness.ts';

let t: TestCluster;

beforeAll(async () => {
  t = await startTestCluster({ controllers: { job: { backoffBaseMs: 100 } } });
  // Pods of Jobs finish as their name says; everything else runs.
  t.kubelet.behaviour.outcome = (pod) => {
    if (!pod.metadata.labels?.['job-name']) return 'Running';
    if (pod.metadata.labels['job-name'].startsWith('fail')) return 'Failed';
    if (pod.metadata.labels['job-name'].startsWith('sleep')) return 'Running';
    return 'Succeeded';
  };
});

afterAll(async () => {
  await t?.stop();
});

async function namespace(name: string): Promise<string> {
  expect((await t.kubectl(['create', 'namespace', name])).code).toBe(0);
  return name;
}

async function apply(ns: string, object: Record<string, unknown>): Promise<void> {
  const result = await t.kubectl(['-n', ns, 'apply', '-f', '-'], { stdin: JSON.stringify(object) });
  expect(result.code, result.stderr).toBe(0);
}

function conditions(object: KubeObject | undefined): Array<Record<string, string>> {
  return ((object?.status as { conditions?: Array<Record<string, string>> }) ?? {}).conditions ?? [];
}

function events(ns: string, reason: string): string[] {
  return t
    .list('', 'v1', 'events', ns)
    .filter((e) => e['reason'] === reason)
    .map((e) => String(e['message']));
}

function job(ns: string, name: string, spec: Record<string, unknown>, podSpec: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name },
    spec: { ...spec, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'work', image: 'busybox', command: ['true'] }], ...podSpec } } },
  };
}

describe('Job', () => {
  it('runs completions pods, parallelism at a time, and completes', async () => {
    const ns = await namespace('job-complete');
    await apply(ns, job(ns, 'batch', { completions: 4, parallelism: 2 }));
    const wait = await t.kubectl(['-n', ns, 'wait', '--for=condition=complete', 'job/batch', '--timeout=20s']);
    expect(wait.stdout).toContain('job.batch/batch condition met');
    const done = t.get('batch', 'v1', 'jobs', ns, 'batch') as KubeObject;
    expect(done.status).toMatchObject({ succeeded: 4, ready: 0, terminating: 0, uncountedTerminatedPods: {} });
    expect((done.status as { completionTime?: string }).completionTime).toBeTruthy();
    expect(conditions(done).map((c) => [c['type'], c['status'], c['reason'], c['message']])).toEqual([
      ['SuccessCriteriaMet', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods'],
      ['Complete', 'True', 'CompletionsReached', 'Reached expected number of succeeded pods'],
    ]);
    const pods = t.list('', 'v1', 'pods', ns);
    expect(pods).toHaveLength(4);
    for (const pod of pods) {
      expect(pod.metadata.name).toMatch(/^batch-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
      expect(pod.metadata.labels).toMatchObject({ 'job-name': 'batch', 'batch.kubernetes.io/job-name': 'batch', 'controller-uid': done.metadata.uid });
      expect(pod.metadata.finalizers ?? []).not.toContain('batch.kubernetes.io/job-tracking');
    }
    expect(events(ns, 'Completed')).toEqual(['Job completed']);
    expect(events(ns, 'SuccessfulCreate')).toHaveLength(4);
    const get = await t.kubectl(['-n', ns, 'get', 'job', 'batch']);
    expect(get.stdout).toMatch(/batch\s+Complete\s+4\/4\s+/);
  });

  it('fails with BackoffLimitExceeded after backoffLimit retries', async () => {
    const ns = await namespace('job-backoff');
    await apply(ns, job(ns, 'fail-always', { backoffLimit: 2 }));
    const wait = await t.kubectl(['-n', ns, 'wait', '--for=condition=failed', 'job/fail-always', '--timeout=20s']);
    expect(wait.code, wait.stderr).toBe(0);
    const failed = t.get('batch', 'v1', 'jobs', ns, 'fail-always') as KubeObject;
    expect((failed.status as { failed: number }).failed).toBe(3);
    expect(conditions(failed).map((c) => [c['type'], c['reason'], c['message']])).toEqual([
      ['FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'],
      ['Failed', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit'],
    ]);
    expect(t.list('', 'v1', 'pods', ns)).toHaveLength(3);
    expect(events(ns, 'BackoffLimitExceeded')).toEqual(['Job has reached the specified backoff limit']);
    const describe = await t.kubectl(['-n', ns, 'describe', 'job', 'fail-always']);
    expect(describe.stdout).toMatch(/Pods Statuses:\s+0 Active \(0 Ready\) \/ 0 Succeeded \/ 3 Failed/);
    expect(describe.stdout).toMatch(/Warning\s+BackoffLimitExceeded\s+.*job-controller\s+Job has reached the specified backoff limit/);
  });

  it('stops a Job that runs past activeDeadlineSeconds', async () => {
    const ns = await namespace('job-deadline');
    await apply(ns, job(ns, 'sleep-long', { activeDeadlineSeconds: 1 }));
    // No wait to see the pod running: the deadline counts from status.startTime, written in whole
    // seconds (upstream's controller reads it back the same way), so the pod lives from a few ms to
    // 1 s. Under load kubectl apply returned after it was gone, and a wait for it never ended. The
    // Job's events and counters are its record.
    const wait = await t.kubectl(['-n', ns, 'wait', '--for=condition=failed', 'job/sleep-long', '--timeout=20s']);
    expect(wait.code, wait.stderr).toBe(0);
    const failed = t.get('batch', 'v1', 'jobs', ns, 'sleep-long') as KubeObject;
    expect(conditions(failed).find((c) => c['type'] === 'Failed')).toMatchObject({ reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' });
    expect(events(ns, 'DeadlineExceeded')).toEqual(['Job was active longer than specified deadline']);
    // The pod it started is the one the deadline deleted, and it counts as failed.
    const created = events(ns, 'SuccessfulCreate');
    expect(created).toHaveLength(1);
    expect(events(ns, 'SuccessfulDelete')).toEqual([created[0]?.replace('Created', 'Deleted')]);
    expect(failed.status).toMatchObject({ failed: 1 });
    expect((failed.status as { active?: number }).active).toBeUndefined();
    await t.until('active pod deleted', () => t.list('', 'v1', 'pods', ns).length === 0);
  });

  it('a work queue (parallelism without completions) keeps its other pods running once one succeeds, and completes when all have ended', async () => {
    const ns = await namespace('job-queue');
    const finished = new Set<string>();
    const before = t.kubelet.behaviour.outcome;
    t.kubelet.behaviour.outcome = (pod) => (pod.metadata.labels?.['job-name'] === 'queue' ? (finished.has(pod.metadata.name ?? '') ? 'Succeeded' : 'Running') : (before?.(pod) ?? 'Running'));
    try {
      await apply(ns, job(ns, 'queue', { parallelism: 5 }));
      expect((t.get('batch', 'v1', 'jobs', ns, 'queue')?.spec as { completions?: number }).completions).toBeUndefined();
      const running = await t.until('five running workers', () => {
        const pods = t.list('', 'v1', 'pods', ns).filter((p) => (p.status as { phase?: string } | undefined)?.phase === 'Running');
        return pods.length === 5 && pods;
      });
      const [first, ...others] = running.map((p) => p.metadata.name ?? '');
      finished.add(first ?? '');
      t.kubelet.resync();
      await t.until('one success counted', () => (t.get('batch', 'v1', 'jobs', ns, 'queue')?.status as { succeeded?: number }).succeeded === 1);
      await t.settle();
      // Upstream's manageJob: once a pod succeeded, whatever runs is left running, and nothing new starts.
      const after = t.list('', 'v1', 'pods', ns);
      expect(after.filter((p) => !p.metadata.deletionTimestamp && (p.status as { phase?: string }).phase === 'Running').map((p) => p.metadata.name).sort()).toEqual([...others].sort());
      expect(after).toHaveLength(5);
      expect(events(ns, 'SuccessfulDelete')).toEqual([]);
      const midway = t.get('batch', 'v1', 'jobs', ns, 'queue') as KubeObject;
      expect(midway.status).toMatchObject({ active: 4, succeeded: 1 });
      expect(conditions(midway)).toEqual([]);

      for (const name of others) finished.add(name);
      t.kubelet.resync();
      const wait = await t.kubectl(['-n', ns, 'wait', '--for=condition=complete', 'job/queue', '--timeout=20s']);
      expect(wait.stdout).toContain('job.batch/queue condition met');
      expect((t.get('batch', 'v1', 'jobs', ns, 'queue') as KubeObject).status).toMatchObject({ succeeded: 5 });
      expect((await t.kubectl(['-n', ns, 'get', 'job', 'queue'])).stdout).toMatch(/queue\s+Complete\s+5\/1 of 5\s+/);
    } finally {
      t.kubelet.behaviour.outcome = before;
    }
  });

  it('an Indexed Job gives every index its pod and reports completedIndexes', async () => {
    const ns = await namespace('job-indexed');
    await apply(ns, job(ns, 'indexed', { completions: 3, parallelism: 3, completionMode: 'Indexed' }));
    expect((await t.kubectl(['-n', ns, 'wait', '--for=condition=complete', 'job/indexed', '--timeout=20s'])).code).toBe(0);
    const done = t.get('batch', 'v1', 'jobs', ns, 'indexed') as KubeObject;
    expect(done.status).toMatchObject({ succeeded: 3, completedIndexes: '0-2' });
    const pods = t.list('', 'v1', 'pods', ns).sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
    expect(pods.map((p) => p.metadata.annotations?.['batch.kubernetes.io/job-completion-index'])).toEqual(['0', '1', '2']);
    expect(pods.map((p) => p.metadata.name?.replace(/-\w{5}$/, ''))).toEqual(['indexed-0', 'indexed-1', 'indexed-2']);
    const env = ((pods[1]?.spec as { containers: Array<{ env: Array<Record<string, unknown>> }> }).containers[0]?.env ?? []).find((e) => e['name'] === 'JOB_COMPLETION_INDEX');
    expect(env).toBeTruthy();
  });

  it('deletes a finished Job after ttlSecondsAfterFinished, with its pods', async () => {
    const ns = await namespace('job-ttl');
    await apply(ns, job(ns, 'short', { ttlSecondsAfterFinished: 1 }));
    await t.until('job gone', () => !t.get('batch', 'v1', 'jobs', ns, 'short'), 15_000);
    await t.until('pods gone', () => t.list('', 'v1', 'pods', ns).length === 0);
  });

  it('kubectl create job --from=cronjob runs the template', async () => {
    const ns = await namespace('job-from');
    await t.kubectl(['-n', ns, 'create', 'cronjob', 'nightly', '--image=busybox', '--schedule=0 3 * * *', '--', 'true']);
    expect((await t.kubectl(['-n', ns, 'create', 'job', 'manual', '--from=cronjob/nightly'])).code).toBe(0);
    expect((await t.kubectl(['-n', ns, 'wait', '--for=condition=complete', 'job/manual', '--timeout=20s'])).code).toBe(0);
  });
});

describe('StatefulSet', () => {
  it('creates ordered pods <set>-<ordinal> with claims <template>-<set>-<ordinal>, and scales down from the top', async () => {
    const ns = await namespace('sts');
    await apply(ns, {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'db' },
      spec: {
        serviceName: 'db',
        replicas: 3,
        selector: { matchLabels: { app: 'db' } },
        template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'postgres:16', volumeMounts: [{ name: 'data', mountPath: '/var/lib/postgresql' }] }] } },
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      },
    });
    const created: string[] = [];
    const pods = t.def('', 'v1', 'pods');
    const watch = t.registry.watch(pods, { namespace: ns }, (event) => {
      if (event.type === 'ADDED') created.push(event.object.metadata.name ?? '');
    });
    const status = await t.kubectl(['-n', ns, 'rollout', 'status', 'statefulset/db', '--timeout=30s']);
    watch.stop();
    expect(status.stdout).toContain('partitioned roll out complete: 3 new pods have been updated...');
    expect(created).toEqual(['db-0', 'db-1', 'db-2']);
    const pod = t.get('', 'v1', 'pods', ns, 'db-1') as KubeObject;
    expect(pod.metadata.labels).toMatchObject({ 'statefulset.kubernetes.io/pod-name': 'db-1', 'apps.kubernetes.io/pod-index': '1' });
    expect(pod.metadata.labels?.['controller-revision-hash']).toMatch(/^db-\w+$/);
    expect(pod.spec).toMatchObject({ hostname: 'db-1', subdomain: 'db' });
    // The claim's volume, then the ServiceAccount token volume admission adds to every pod.
    expect((pod.spec as { volumes: Array<{ name: string }> }).volumes.map((v) => v.name)).toEqual(['data', expect.stringMatching(/^kube-api-access-/)]);
    expect((pod.spec as { volumes: unknown[] }).volumes[0]).toEqual({ name: 'data', persistentVolumeClaim: { claimName: 'data-db-1' } });
    const claims = t.list('', 'v1', 'persistentvolumeclaims', ns);
    expect(claims.map((c) => c.metadata.name).sort()).toEqual(['data-db-0', 'data-db-1', 'data-db-2']);
    await t.until('claims bound', () => t.list('', 'v1', 'persistentvolumeclaims', ns).every((c) => (c.status as { phase: string }).phase === 'Bound'));
    expect(events(ns, 'SuccessfulCreate')).toContain('create Claim data-db-0 Pod db-0 in StatefulSet db success');
    expect(events(ns, 'SuccessfulCreate')).toContain('create Pod db-0 in StatefulSet db successful');
    const revisions = t.list('apps', 'v1', 'controllerrevisions', ns);
    expect(revisions.map((r) => r.metadata.name)).toEqual([pod.metadata.labels?.['controller-revision-hash']]);

    await t.kubectl(['-n', ns, 'scale', 'statefulset/db', '--replicas=1']);
    await t.until('scaled to one', () => t.list('', 'v1', 'pods', ns).map((p) => p.metadata.name).join() === 'db-0');
    expect(events(ns, 'SuccessfulDelete')).toEqual(['delete Pod db-2 in StatefulSet db successful', 'delete Pod db-1 in StatefulSet db successful']);
    expect(t.list('', 'v1', 'persistentvolumeclaims', ns)).toHaveLength(3);
  });

  it('rolls out a new template from the highest ordinal down to the partition', async () => {
    const ns = await namespace('sts-rolling');
    await apply(ns, {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'web' },
      spec: { serviceName: 'web', replicas: 3, podManagementPolicy: 'Parallel', selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.26' }] } } },
    });
    await t.kubectl(['-n', ns, 'rollout', 'status', 'statefulset/web', '--timeout=30s']);
    await t.kubectl(['-n', ns, 'patch', 'statefulset/web', '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":1}}}}']);
    await t.kubectl(['-n', ns, 'set', 'image', 'statefulset/web', 'web=nginx:1.27']);
    const image = (name: string) => (t.get('', 'v1', 'pods', ns, name)?.spec as { containers: Array<{ image: string }> } | undefined)?.containers[0]?.image;
    await t.until('ordinals 1 and 2 updated', () => image('web-1') === 'nginx:1.27' && image('web-2') === 'nginx:1.27' && t.list('', 'v1', 'pods', ns).length === 3);
    await t.settle();
    expect(image('web-0')).toBe('nginx:1.26');
    const sts = t.get('apps', 'v1', 'statefulsets', ns, 'web') as KubeObject;
    expect((sts.status as { updatedReplicas: number }).updatedReplicas).toBe(2);
    expect(t.list('apps', 'v1', 'controllerrevisions', ns)).toHaveLength(2);
  });
});

describe('DaemonSet', () => {
  it('runs one pod on every node whose taints and labels it accepts, also cordoned ones', async () => {
    const ns = await namespace('daemons');
    await t.kubectl(['taint', 'nodes', 'node-3', 'gpu=true:NoSchedule']);
    await t.kubectl(['cordon', 'node-2']);
    try {
      await apply(ns, {
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: { name: 'agent' },
        spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'agent', image: 'busybox' }] } } },
      });
      expect((await t.kubectl(['-n', ns, 'rollout', 'status', 'daemonset/agent', '--timeout=30s'])).code).toBe(0);
      const nodes = () => t.list('', 'v1', 'pods', ns).map((p) => (p.spec as { nodeName?: string }).nodeName).sort();
      expect(nodes()).toEqual(['node-1', 'node-2']);
      const ds = t.get('apps', 'v1', 'daemonsets', ns, 'agent') as KubeObject;
      expect(ds.status).toMatchObject({ desiredNumberScheduled: 2, currentNumberScheduled: 2, numberReady: 2, numberMisscheduled: 0 });
      const pod = t.list('', 'v1', 'pods', ns)[0] as KubeObject;
      expect((pod.spec as { tolerations: Array<Record<string, string>> }).tolerations).toContainEqual({ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' });

      // A node that starts accepting the daemon gets its pod; a label selector narrows it down.
      await t.kubectl(['taint', 'nodes', 'node-3', 'gpu=true:NoSchedule-']);
      await t.until('three daemon pods', () => nodes().length === 3 && nodes().every(Boolean));
      await t.kubectl(['label', 'nodes', 'node-1', 'agent=yes']);
      await t.kubectl(['-n', ns, 'patch', 'daemonset/agent', '-p', '{"spec":{"template":{"spec":{"nodeSelector":{"agent":"yes"}}}}}']);
      await t.until('only node-1 left', () => nodes().join() === 'node-1');
    } finally {
      await t.kubectl(['taint', 'nodes', 'node-3', 'gpu=true:NoSchedule-']);
      await t.kubectl(['uncordon', 'node-2']);
      await t.kubectl(['label', 'nodes', 'node-1', 'agent-']);
    }
  });
});
