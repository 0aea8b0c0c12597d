// The resource metrics pipeline's own cost: one metrics-server scrape of a busy node's pods (the
// store's window arithmetic, 500 pods of 2 containers) and reading one container's cgroup counters
// (CPU time and working set), which the kubelet does for every real container every resolution.
import { ResourceMetricsStore } from '../src/cluster/kubelet/resource-metrics.ts';
import { SandboxCgroup } from '../src/cluster/kubelet/sandbox/cgroups.ts';
import type { ContainerSample } from '../src/cluster/kubelet/usage.ts';
import { percentile, round } from './stats.ts';

const PODS = 500;
const SCRAPES = 40;
const READS = 2000;

export default async function metricsBench(): Promise<Record<string, number>> {
  const figures: Record<string, number> = {};
  const store = new ResourceMetricsStore({ resolutionMs: 15_000, freshContainerMinMs: 10_000 });
  const scrapeMs: number[] = [];
  for (let scrape = 0; scrape < SCRAPES; scrape++) {
    const at = 1_000_000 + scrape * 15_000;
    const pods = new Map<string, ContainerSample[]>();
    for (let p = 0; p < PODS; p++) {
      pods.set(`pod-${p}`, [
        { name: 'app', containerID: `c-${p}`, startedAt: 0, cpuNanos: scrape * 1e9 + p, memoryBytes: 64 * 1024 * 1024 },
        { name: 'sidecar', containerID: `s-${p}`, startedAt: 0, cpuMillis: 5, memoryBytes: 8 * 1024 * 1024 },
      ]);
    }
    const started = performance.now();
    store.storePods(at, pods);
    for (let p = 0; p < PODS; p++) store.pod(`pod-${p}`);
    scrapeMs.push(performance.now() - started);
  }
  figures['metrics_scrape_500_pods_ms_p95'] = percentile(scrapeMs, 95);

  const parent = await SandboxCgroup.parent(`formicary-bench-metrics-${process.pid}`, {});
  const container = await parent?.child('container', {});
  if (container) {
    const started = performance.now();
    for (let i = 0; i < READS; i++) {
      container.cpuUsageNanos();
      container.memoryUsageBytes();
    }
    figures['metrics_cgroup_read_us_per_container'] = round(((performance.now() - started) * 1000) / READS, 1);
  }
  await parent?.remove(1);
  return figures;
}
