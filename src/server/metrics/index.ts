// Prometheus metrics for /metrics: requests counted and timed by route, requests in flight, and
// Node's process metrics. One registry per portal, so portals started side by side (tests, the
// bench) do not add to each other's counts.

import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export interface PortalMetrics {
  readonly registry: Registry;
  readonly contentType: string;
  requestStarted(): void;
  requestFinished(labels: { method: string; route: string; status: number }, seconds: number): void;
  /** Reports the lab cluster's readiness and restarts at every scrape. */
  watchLabCluster(cluster: { readonly ready: boolean; readonly restarts: number; readonly mode: string }): void;
  /** The text exposition format. */
  render(): Promise<string>;
}

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createMetrics(): PortalMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from receiving an HTTP request to finishing its response, by method, route and status code.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: DURATION_BUCKETS,
    registers: [registry],
  });
  const inFlight = new Gauge({
    name: 'http_requests_in_flight',
    help: 'HTTP requests being answered now.',
    registers: [registry],
  });

  return {
    registry,
    contentType: registry.contentType,
    requestStarted: () => inFlight.inc(),
    requestFinished({ method, route, status }, seconds) {
      inFlight.dec();
      const labels = { method, route, status: String(status) };
      requests.inc(labels);
      durations.observe(labels, seconds);
    },
    watchLabCluster(cluster) {
      new Gauge({
        name: 'formicary_lab_cluster_ready',
        help: 'Whether the lab cluster can be used (1) or not (0).',
        labelNames: ['mode'] as const,
        registers: [registry],
        collect() {
          this.set({ mode: cluster.mode }, cluster.ready ? 1 : 0);
        },
      });
      new Gauge({
        name: 'formicary_lab_cluster_restarts',
        help: 'How often the embedded lab cluster was started again after it died or never got ready.',
        registers: [registry],
        collect() {
          this.set(cluster.restarts);
        },
      });
    },
    render: () => registry.metrics(),
  };
}
