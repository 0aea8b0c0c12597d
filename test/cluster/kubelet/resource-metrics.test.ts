// metrics-server's storage as the kubelet keeps it: a window needs two points of the same
// container instance (or one point of a container young enough to count from its start), every
// running container of a pod needs one, and CPU is the counter's rate over the window.
import { describe, expect, it } from 'vitest';
import { cpuQuantity, goDuration, memoryQuantity, ResourceMetricsStore } from '../../../src/cluster/kubelet/resource-metrics.ts';
import type { ContainerSample } from '../../../src/cluster/kubelet/usage.ts';

const MiB = 1024 * 1024;
const store = () => new ResourceMetricsStore({ resolutionMs: 15_000, freshContainerMinMs: 10_000 });
const real = (name: string, cpuNanos: number, extra: Partial<ContainerSample> = {}): ContainerSample => ({ name, containerID: `id-${name}`, startedAt: 0, cpuNanos, memoryBytes: 10 * MiB, ...extra });

describe('the resource metrics store', () => {
  it('has no window after one scrape, and the counter\'s rate after two', () => {
    const metrics = store();
    metrics.storePods(100_000, new Map([['pod', [real('app', 5e9)]]]));
    expect(metrics.pod('pod')).toBeUndefined();
    metrics.storePods(115_000, new Map([['pod', [real('app', 5e9 + 3e9, { memoryBytes: 12 * MiB })]]]));
    // 3 s of CPU in 15 s: 200 millicores; the memory is the last point's.
    expect(metrics.pod('pod')).toEqual({ timestamp: 115_000, windowMs: 15_000, containers: [{ name: 'app', cpuNanocores: 200_000_000, memoryBytes: 12 * MiB }] });
  });

  it('counts a young container from its start, but not one younger than 10 s', () => {
    const metrics = store();
    metrics.storePods(112_000, new Map([['pod', [real('app', 1.2e9, { startedAt: 100_000 })]]]));
    expect(metrics.pod('pod')).toEqual({ timestamp: 112_000, windowMs: 12_000, containers: [{ name: 'app', cpuNanocores: 100_000_000, memoryBytes: 10 * MiB }] });
    metrics.storePods(105_000, new Map([['other', [real('app', 1e9, { startedAt: 100_000 })]]]));
    expect(metrics.pod('other')).toBeUndefined();
  });

  it('reports a pod only once every running container has a window', () => {
    const metrics = store();
    metrics.storePods(100_000, new Map([['pod', [real('app', 1e9)]]]));
    metrics.storePods(115_000, new Map([['pod', [real('app', 2e9), real('sidecar', 1e9, { startedAt: 114_000 })]]]));
    expect(metrics.pod('pod')).toBeUndefined();
  });

  it('starts over when a container restarts (a new instance is a new counter)', () => {
    const metrics = store();
    metrics.storePods(100_000, new Map([['pod', [real('app', 9e9)]]]));
    metrics.storePods(115_000, new Map([['pod', [real('app', 1e8, { containerID: 'id-restarted', startedAt: 114_000 })]]]));
    expect(metrics.pod('pod')).toBeUndefined();
  });

  it('integrates a simulated rate and forgets pods no longer scraped', () => {
    const metrics = store();
    metrics.storePods(100_000, new Map([['pod', [{ name: 'web', containerID: 'w', startedAt: 0, cpuMillis: 450, memoryBytes: 4 * MiB }]]]));
    metrics.storePods(115_000, new Map([['pod', [{ name: 'web', containerID: 'w', startedAt: 0, cpuMillis: 450, memoryBytes: 4 * MiB }]]]));
    expect(metrics.pod('pod')?.containers[0]?.cpuNanocores).toBe(450_000_000);
    metrics.storePods(130_000, new Map());
    expect(metrics.pod('pod')).toBeUndefined();
  });

  it('gives a node a window from its second scrape', () => {
    const metrics = store();
    metrics.storeNode('node-1', 100_000, { cpuNanocores: 300_000_000, memoryBytes: 700 * MiB });
    expect(metrics.node('node-1')).toBeUndefined();
    metrics.storeNode('node-1', 115_000, { cpuNanocores: 300_000_000, memoryBytes: 710 * MiB });
    expect(metrics.node('node-1')).toEqual({ timestamp: 115_000, windowMs: 15_000, cpuNanocores: 300_000_000, memoryBytes: 710 * MiB });
  });

  it('writes quantities and windows as metrics-server does', () => {
    expect([cpuQuantity(200_000_000), cpuQuantity(1_234_567), cpuQuantity(2e9), cpuQuantity(0)]).toEqual(['200m', '1234567n', '2', '0']);
    expect([memoryQuantity(12 * MiB), memoryQuantity(1536 * 1024), memoryQuantity(12_345)]).toEqual(['12Mi', '1536Ki', '12345']);
    expect([goDuration(15_000), goDuration(14_998), goDuration(301), goDuration(60_500)]).toEqual(['15s', '14.998s', '301ms', '1m0.5s']);
  });
});
