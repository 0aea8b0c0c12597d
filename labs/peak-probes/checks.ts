// Custom checks of the peak-probes lab.
import type { CustomCheck, KubeObject } from '../../src/labs/index.ts';

interface Probe {
  httpGet?: { path?: string; port?: number | string };
  tcpSocket?: unknown;
  exec?: unknown;
  grpc?: unknown;
}
interface Container {
  name?: string;
  livenessProbe?: Probe;
  readinessProbe?: Probe;
}
interface ContainerStatus {
  restartCount?: number;
}

const describe = (probe: Probe | undefined) =>
  !probe ? 'none' : probe.httpGet ? `GET ${probe.httpGet.path ?? '/'} on ${String(probe.httpGet.port)}` : probe.tcpSocket ? 'a TCP connection' : probe.exec ? 'a command' : 'gRPC';

/** Liveness asks something that does not fail while warming up; readiness asks /ready. */
export const probesAskTheRightQuestions: CustomCheck = async (ctx) => {
  const deployment = await ctx.get('deployment', 'catalog');
  const containers = ((deployment?.spec as { template?: { spec?: { containers?: Container[] } } } | undefined)?.template?.spec?.containers ?? []) as Container[];
  const container = containers.find((c) => c.name === 'catalog');
  const expected = 'liveness on something that works while warming up (such as GET /healthz); readiness GET /ready on 8080';
  if (!container) return { passed: false, expected, found: 'no container catalog', message: 'The Deployment catalog has no container named catalog any more.' };
  const liveness = container.livenessProbe;
  const readiness = container.readinessProbe;
  const found = `liveness: ${describe(liveness)}; readiness: ${describe(readiness)}`;
  if (!liveness) return { passed: false, expected, found, message: 'catalog has no liveness probe now: a process that hangs would never be restarted. Keep one, on a question a warming-up app answers yes to.' };
  if (liveness.httpGet?.path?.replace(/\/+$/, '') === '/ready') return { passed: false, expected, found, message: 'The liveness probe still asks /ready, which answers 503 for the first 15 seconds: the kubelet kills every pod before it is warm. Liveness should ask /healthz.' };
  if (!readiness) return { passed: false, expected, found, message: 'catalog has no readiness probe: its pods would get traffic the moment they start, 15 seconds before they can serve.' };
  if (readiness.httpGet?.path?.replace(/\/+$/, '') !== '/ready' || String(readiness.httpGet?.port) !== '8080')
    return { passed: false, expected, found, message: `The readiness probe asks ${describe(readiness)}; only /ready on 8080 says whether the pod can take traffic (/healthz is 200 while it is still warming up).` };
  return { passed: true, expected, found, message: 'Liveness asks whether the process works, readiness whether it can serve: a warming pod waits for traffic instead of being killed.' };
};

const restarts = (pod: KubeObject) => ((pod.status as { containerStatuses?: ContainerStatus[] } | undefined)?.containerStatuses ?? []).reduce((sum, s) => sum + (s.restartCount ?? 0), 0);

/** No current catalog pod has restarted. */
export const noCatalogRestarts: CustomCheck = async (ctx) => {
  const pods = (await ctx.list('pods', { selector: 'app=catalog' })).filter((pod) => !pod.metadata.deletionTimestamp);
  const restarted = pods.filter((pod) => restarts(pod) > 0);
  const found = pods.map((pod) => `${pod.metadata.name}: ${restarts(pod)} restarts`).join(', ') || 'no catalog pods';
  if (pods.length && !restarted.length) return { passed: true, expected: 'no restarts', found, message: 'No catalog pod has been restarted.' };
  return {
    passed: false,
    expected: 'no restarts',
    found,
    message: pods.length ? `${restarted.map((pod) => pod.metadata.name).join(', ')} restarted: something still kills healthy containers.` : 'There are no catalog pods.',
  };
};

interface Slice {
  endpoints?: Array<{ addresses?: string[]; conditions?: { ready?: boolean }; targetRef?: { name?: string } }>;
}

/** Exactly one catalog pod is not Ready, its EndpointSlice entry says so, and it keeps running. */
export const onePodOutOfTraffic: CustomCheck = async (ctx) => {
  const pods = (await ctx.list('pods', { selector: 'app=catalog' })).filter((pod) => !pod.metadata.deletionTimestamp);
  const ready = (pod: KubeObject) => ((pod.status as { conditions?: Array<{ type?: string; status?: string }> } | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
  const out = pods.filter((pod) => !ready(pod));
  const slices = (await ctx.list('endpointslices', { selector: 'kubernetes.io/service-name=catalog' })) as unknown as Slice[];
  const serving = slices.flatMap((slice) => (slice.endpoints ?? []).filter((e) => e.conditions?.ready !== false).map((e) => e.targetRef?.name ?? ''));
  const expected = 'one catalog pod not Ready and not served; the other two served';
  const found = `not Ready: ${out.map((pod) => pod.metadata.name).join(', ') || 'none'}; served: ${serving.join(', ') || 'none'}`;
  if (out.length === 0) return { passed: false, expected, found, message: 'Every catalog pod is still Ready. Make one answer 503 on /ready (touch /tmp/not-ready in it) and give the probe a few seconds.' };
  if (out.length > 1) return { passed: false, expected, found, message: `${out.length} catalog pods are out of traffic; this step takes out one, so that the others carry it.` };
  const name = out[0]?.metadata.name ?? '';
  if (serving.includes(name)) return { passed: false, expected, found, message: `${name} is not Ready but the Service still lists it as serving; wait a moment for the EndpointSlice controller.` };
  if (serving.length !== pods.length - 1) return { passed: false, expected, found, message: 'The Service does not list the other catalog pods as serving yet.' };
  return { passed: true, expected, found, message: `${name} gets no traffic and keeps running; remove /tmp/not-ready and it is back without a restart.` };
};
