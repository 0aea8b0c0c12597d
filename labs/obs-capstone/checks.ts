// Custom checks of the obs-capstone lab.
import type { CustomCheck, CustomCheckContext, KubeObject } from '../../src/labs/index.ts';

interface Probe {
  httpGet?: { path?: string; port?: number | string };
  tcpSocket?: { port?: number | string };
  exec?: unknown;
  grpc?: unknown;
}
interface Container {
  name?: string;
  readinessProbe?: Probe;
  ports?: Array<{ name?: string; containerPort?: number }>;
  env?: Array<{ name?: string }>;
  envFrom?: Array<{ configMapRef?: { name?: string } }>;
}
interface Slice {
  endpoints?: Array<{ addresses?: string[]; conditions?: { ready?: boolean } }>;
  ports?: Array<{ port?: number }>;
}

const containersOf = (object: KubeObject | null): Container[] =>
  ((object?.spec as { template?: { spec?: { containers?: Container[] } } } | undefined)?.template?.spec?.containers ?? []) as Container[];

async function serving(ctx: CustomCheckContext, service: string): Promise<{ addresses: string[]; ports: number[] }> {
  const slices = (await ctx.list('endpointslices', { selector: `kubernetes.io/service-name=${service}` })) as unknown as Slice[];
  const addresses = slices.flatMap((slice) => (slice.endpoints ?? []).filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses ?? [])).sort();
  const ports = [...new Set(slices.flatMap((slice) => (slice.ports ?? []).map((p) => p.port ?? 0)))].sort();
  return { addresses, ports };
}

async function podIPs(ctx: CustomCheckContext, selector: string): Promise<string[]> {
  const pods = (await ctx.list('pods', { selector })).filter((pod) => !pod.metadata.deletionTimestamp);
  return pods.map((pod) => String((pod.status as { podIP?: string } | undefined)?.podIP ?? '')).filter(Boolean).sort();
}

/** gateway keeps a readiness probe, and it asks the app's own port. */
export const gatewayProbesAskTheApp: CustomCheck = async (ctx) => {
  const container = containersOf(await ctx.get('deployment', 'gateway')).find((c) => c.name === 'gateway');
  const probe = container?.readinessProbe;
  const expected = 'a readiness probe on the port the app listens on (8080, named http)';
  const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port;
  const found = !probe ? 'no readiness probe' : probe.httpGet ? `GET ${probe.httpGet.path ?? '/'} on ${String(port)}` : probe.tcpSocket ? `TCP on ${String(port)}` : 'a command or gRPC';
  if (!probe)
    return { passed: false, expected, found, message: 'gateway has no readiness probe any more: its pods would get traffic while they cannot serve. Fix the probe, do not remove it.' };
  const named = container?.ports?.find((p) => p.name === port)?.containerPort;
  if ((port !== undefined && (String(port) === '8080' || named === 8080)) || probe.exec || probe.grpc)
    return { passed: true, expected, found, message: 'gateway\'s readiness probe asks the app where it listens.' };
  return { passed: false, expected, found, message: `gateway's readiness probe asks port ${String(port)}, where nothing listens; the app listens on 8080.` };
};

/** The Service gateway has both gateway pods as ready endpoints. */
export const gatewayServes: CustomCheck = async (ctx) => {
  const ips = await podIPs(ctx, 'app=gateway');
  const { addresses } = await serving(ctx, 'gateway');
  const expected = `ready endpoints ${ips.join(', ')}`;
  const found = addresses.length ? `ready endpoints ${addresses.join(', ')}` : 'no ready endpoints';
  if (addresses.length >= 2 && ips.every((ip) => addresses.includes(ip))) return { passed: true, expected, found, message: 'The Service gateway sends traffic to both gateway pods.' };
  return { passed: false, expected, found, message: 'The Service gateway does not list both gateway pods as ready endpoints yet.' };
};

/** ledger runs without restarts and still takes its settings from ledger-config. */
export const ledgerRunsFromItsConfigMap: CustomCheck = async (ctx) => {
  const container = containersOf(await ctx.get('deployment', 'ledger')).find((c) => c.name === 'ledger');
  const expected = 'a ledger pod running with 0 restarts, settings from ledger-config';
  if (container?.env?.some((e) => e.name === 'LEDGER_MODE') || !container?.envFrom?.some((e) => e.configMapRef?.name === 'ledger-config'))
    return {
      passed: false,
      expected,
      found: 'LEDGER_MODE set outside ledger-config',
      message: "ledger's settings should keep coming from the ConfigMap ledger-config, where its team keeps them; fix the value there, not in the Deployment.",
    };
  const pods = (await ctx.list('pods', { selector: 'app=ledger' })).filter((pod) => !pod.metadata.deletionTimestamp);
  const statuses = pods.map((pod) => ({ name: pod.metadata.name ?? '', status: (pod.status as { containerStatuses?: Array<{ ready?: boolean; restartCount?: number }> } | undefined)?.containerStatuses?.[0] }));
  const found = statuses.map((s) => `${s.name}: ${s.status?.ready ? 'Ready' : 'not Ready'}, ${s.status?.restartCount ?? 0} restarts`).join('; ') || 'no ledger pods';
  if (statuses.length > 0 && statuses.every((s) => s.status?.ready && (s.status.restartCount ?? 0) === 0))
    return { passed: true, expected, found, message: 'ledger runs, and its settings come from its ConfigMap.' };
  return {
    passed: false,
    expected,
    found,
    message: 'No ledger pod runs without restarts yet. A container that started before your ConfigMap change still has the old value in its environment; new containers read the new one.',
  };
};

/** The Service search sends traffic to exactly the search pods. */
export const searchEndpointsAreSearchPods: CustomCheck = async (ctx) => {
  const ips = await podIPs(ctx, 'app=search');
  const { addresses } = await serving(ctx, 'search');
  const expected = `endpoints ${ips.join(', ')}`;
  const found = addresses.length ? `endpoints ${addresses.join(', ')}` : 'no endpoints';
  if (!addresses.length) return { passed: false, expected, found, message: 'The Service search still has no endpoints: its selector matches no Ready pod.' };
  const others = addresses.filter((ip) => !ips.includes(ip));
  if (others.length) return { passed: false, expected, found, message: `The Service search also sends traffic to ${others.join(', ')}, which ${others.length === 1 ? 'is not a search pod' : 'are not search pods'}.` };
  if (addresses.join() !== ips.join()) return { passed: false, expected, found, message: 'The Service search does not list both search pods yet.' };
  return { passed: true, expected, found, message: 'The Service search sends traffic to both search pods and nothing else.' };
};

/** ~/search-answer.txt holds an answer a search pod served. */
export const searchAnswered: CustomCheck = async (ctx) => {
  const pods = (await ctx.list('pods', { selector: 'app=search' })).map((pod) => pod.metadata.name ?? '');
  const expected = '"Hello from demo-web … on search-…"';
  const text = await ctx.readFile('~/search-answer.txt');
  if (text === null) return { passed: false, expected, found: 'no ~/search-answer.txt', message: 'There is no file ~/search-answer.txt in your workbench yet.' };
  const line = text.split('\n').find((l) => l.includes('Hello from demo-web'));
  const first = (line ?? text.trim().split('\n')[0] ?? '').trim().slice(0, 120) || '(an empty file)';
  if (line && pods.some((name) => line.includes(name))) return { passed: true, expected, found: first, message: 'The request went through the Service search, and a search pod answered it.' };
  return { passed: false, expected, found: first, message: '~/search-answer.txt does not hold an answer from a search pod; save what curl -sS http://search/ prints once the Service answers.' };
};
