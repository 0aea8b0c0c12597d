// The HorizontalPodAutoscaler on an injected clock and a metrics source the test drives (the
// kubelet's role): scale up on CPU above target, stay within tolerance, scale down only after
// the stabilization window, report missing metrics.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, type PodMetricsSource } from '../../../src/cluster/controllers/index.ts';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { startTestCluster, type TestCluster } from './harness.ts';

let t: TestCluster;
const clock = new ManualClock(Date.now());
/** millicores each pod of a namespace uses; a namespace missing here reports no metrics */
const usage = new Map<string, number>();
const metrics: PodMetricsSource = {
  podUsage: (pod) => {
    const cpu = usage.get(pod.metadata.namespace ?? '');
    return cpu === undefined ? undefined : { cpuMillis: cpu, memoryBytes: 10 * 1024 * 1024 };
  },
};

beforeAll(async () => {
  t = await startTestCluster({ clock: () => clock.now(), controllers: { clock, metrics } });
});

afterAll(async () => {
  await t?.stop();
});

async function namespace(name: string): Promise<string> {
  expect((await t.kubectl(['create', 'namespace', name])).code).toBe(0);
  return name;
}

async function webDeployment(ns: string, replicas: number): Promise<void> {
  const object = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx', resources: { requests: { cpu: '100m' } } }] } } },
  };
  expect((await t.kubectl(['-n', ns, 'apply', '-f', '-'], { stdin: JSON.stringify(object) })).code).toBe(0);
  await t.until('web available', () => (t.get('apps', 'v1', 'deployments', ns, 'web')?.status as { availableReplicas?: number })?.availableReplicas === replicas);
}

function replicas(ns: string): number | undefined {
  return (t.get('apps', 'v1', 'deployments', ns, 'web')?.spec as { replicas?: number })?.replicas;
}

function hpaStatus(ns: string): Record<string, unknown> {
  return (t.get('autoscaling', 'v2', 'horizontalpodautoscalers', ns, 'web')?.status ?? {}) as Record<string, unknown>;
}

async function tick(ms = 15_000): Promise<void> {
  clock.advance(ms);
  await t.settle();
}

function hpaEvents(ns: string): string[] {
  return t
    .list('', 'v1', 'events', ns)
    .filter((e) => (e['involvedObject'] as KubeObject).kind === 'HorizontalPodAutoscaler')
    .map((e) => `${e['reason']}: ${e['message']}`);
}

describe('HorizontalPodAutoscaler', () => {
  it('scales up on CPU above target, holds within tolerance, and scales down after the stabilization window', async () => {
    const ns = await namespace('hpa');
    await webDeployment(ns, 2);
    usage.set(ns, 90);
    const autoscale = await t.kubectl(['-n', ns, 'autoscale', 'deployment', 'web', '--cpu-percent=50', '--min=1', '--max=5']);
    expect(autoscale.stdout).toContain('horizontalpodautoscaler.autoscaling/web autoscaled');
    await t.until('scaled to 4', () => replicas(ns) === 4);
    expect(hpaEvents(ns)).toContain('SuccessfulRescale: New size: 4; reason: cpu resource utilization (percentage of request) above target');
    await t.settle();
    expect(hpaStatus(ns)).toMatchObject({ desiredReplicas: 4, currentMetrics: [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 90 } } }] });

    // 52 % against 50 %: inside the 10 % tolerance, nothing changes.
    usage.set(ns, 52);
    await t.until('4 available', () => (t.get('apps', 'v1', 'deployments', ns, 'web')?.status as { availableReplicas?: number })?.availableReplicas === 4);
    await tick();
    expect(replicas(ns)).toBe(4);
    const get = await t.kubectl(['-n', ns, 'get', 'hpa', 'web']);
    expect(get.stdout).toMatch(/web\s+Deployment\/web\s+cpu: 52%\/50%\s+1\s+5\s+4\s+/);

    // Load drops: the recommendation is 2, but scale-down waits five minutes.
    usage.set(ns, 20);
    await tick();
    expect(replicas(ns)).toBe(4);
    const able = (hpaStatus(ns)['conditions'] as Array<Record<string, string>>).find((c) => c['type'] === 'AbleToScale');
    expect(able).toMatchObject({ status: 'True', reason: 'ScaleDownStabilized' });
    await tick(300_000);
    await t.until('scaled down to 2', () => replicas(ns) === 2);
    expect(hpaEvents(ns)).toContain('SuccessfulRescale: New size: 2; reason: All metrics below target');
  });

  it('without metrics it says so and leaves the replicas alone', async () => {
    const ns = await namespace('hpa-nometrics');
    await webDeployment(ns, 2);
    expect((await t.kubectl(['-n', ns, 'autoscale', 'deployment', 'web', '--cpu-percent=50', '--min=1', '--max=5'])).code).toBe(0);
    const event = await t.until('FailedGetResourceMetric', () => hpaEvents(ns).find((e) => e.startsWith('FailedGetResourceMetric')));
    expect(event).toBe('FailedGetResourceMetric: failed to get cpu utilization: unable to get metrics for resource cpu: no metrics returned from resource metrics API');
    await t.settle();
    const active = (hpaStatus(ns)['conditions'] as Array<Record<string, string>>).find((c) => c['type'] === 'ScalingActive');
    expect(active).toMatchObject({ status: 'False', reason: 'FailedGetResourceMetric' });
    expect(replicas(ns)).toBe(2);
  });
});
