// Custom checks of the labels-selectors-services lab.
import type { CustomCheck, KubeObject } from '../../src/labs/index.ts';

const names = (objects: KubeObject[]) => objects.filter((o) => !o.metadata.deletionTimestamp).map((o) => o.metadata.name ?? '').sort();

/** ~/backend-pods.txt names exactly the pods labelled tier=backend (with or without the pod/ prefix). */
export const backendPodsListed: CustomCheck = async (ctx) => {
  const expected = names(await ctx.list('pods', { selector: 'tier=backend' }));
  const text = await ctx.readFile('~/backend-pods.txt');
  if (text === null) return { passed: false, expected: expected.join(' '), found: 'no ~/backend-pods.txt', message: 'There is no file ~/backend-pods.txt in your workbench yet.' };
  const written = text
    .split(/\s+/)
    .filter(Boolean)
    .map((word) => word.replace(/^pods?\//, ''))
    .sort();
  const passed = written.join(' ') === expected.join(' ');
  const missing = expected.filter((name) => !written.includes(name));
  const extra = written.filter((name) => !expected.includes(name));
  return {
    passed,
    expected: expected.join(' '),
    found: written.join(' ') || '(an empty file)',
    message: passed
      ? '~/backend-pods.txt names every backend pod and nothing else.'
      : `~/backend-pods.txt ${missing.length ? `is missing ${missing.join(', ')}` : ''}${missing.length && extra.length ? ' and ' : ''}${extra.length ? `also names ${extra.join(', ')}, which ${extra.length === 1 ? 'is not a backend pod' : 'are not backend pods'}` : ''}.`,
  };
};

interface Slice {
  endpoints?: Array<{ addresses?: string[]; conditions?: { ready?: boolean }; targetRef?: { name?: string } }>;
  ports?: Array<{ port?: number }>;
}

/** The ready addresses and the ports the EndpointSlices of a Service list. */
async function serving(ctx: Parameters<CustomCheck>[0], service: string): Promise<{ addresses: string[]; ports: number[] }> {
  const slices = (await ctx.list('endpointslices', { selector: `kubernetes.io/service-name=${service}` })) as unknown as Slice[];
  const addresses = slices.flatMap((slice) => (slice.endpoints ?? []).filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses ?? [])).sort();
  const ports = [...new Set(slices.flatMap((slice) => (slice.ports ?? []).map((p) => p.port ?? 0)))].sort();
  return { addresses, ports };
}

async function podIPs(ctx: Parameters<CustomCheck>[0], selector: string): Promise<string[]> {
  const pods = (await ctx.list('pods', { selector })).filter((pod) => !pod.metadata.deletionTimestamp);
  return pods.map((pod) => String((pod.status as { podIP?: string } | undefined)?.podIP ?? '')).filter(Boolean).sort();
}

/** The Service shop's endpoints are exactly the Ready shop pods. */
export const shopEndpointsAreShopPods: CustomCheck = async (ctx) => {
  const ips = await podIPs(ctx, 'app=shop');
  const { addresses } = await serving(ctx, 'shop');
  const passed = addresses.length > 0 && addresses.join(' ') === ips.join(' ');
  return {
    passed,
    expected: `endpoints ${ips.join(', ')}`,
    found: addresses.length ? `endpoints ${addresses.join(', ')}` : 'no endpoints',
    message: passed
      ? `The Service shop sends traffic to both shop pods (${addresses.join(', ')}).`
      : addresses.length
        ? `The Service shop sends traffic to ${addresses.join(', ')}, but the shop pods are ${ips.join(', ')}.`
        : 'The Service shop still has no endpoints: its selector matches no Ready pod.',
  };
};

/** The Service api sends traffic to exactly the api pods, on their port 8080. */
export const apiEndpointsAreApiPods: CustomCheck = async (ctx) => {
  const ips = await podIPs(ctx, 'app=api');
  const { addresses, ports } = await serving(ctx, 'api');
  const expected = `endpoints ${ips.map((ip) => `${ip}:8080`).join(', ')}`;
  const found = addresses.length ? `endpoints ${addresses.join(', ')} on port ${ports.join(', ')}` : 'no endpoints';
  const others = addresses.filter((ip) => !ips.includes(ip));
  const missing = ips.filter((ip) => !addresses.includes(ip));
  let message: string;
  if (!addresses.length) message = 'The Service api has no endpoints: its selector matches no Ready pod. Compare it with the labels of the api pods.';
  else if (others.length) message = `The Service api also sends traffic to ${others.join(', ')}, which ${others.length === 1 ? 'is not an api pod' : 'are not api pods'}: its selector is too wide (tier or team labels are shared with the shop).`;
  else if (missing.length) message = `The Service api does not send traffic to ${missing.join(', ')} yet.`;
  else if (ports.join() !== '8080') message = `The Service api forwards to port ${ports.join(', ')}; the api pods listen on 8080.`;
  else return { passed: true, expected, found, message: 'The Service api sends traffic to both api pods, on port 8080.' };
  return { passed: false, expected, found, message };
};

/** ~/api-answer.txt holds an answer that one of the api pods served. */
export const answerFromApi: CustomCheck = async (ctx) => {
  const pods = (await ctx.list('pods', { selector: 'app=api' })).map((pod) => pod.metadata.name ?? '');
  const expected = `"Hello from demo-web … on <an api pod>" (${pods.join(', ')})`;
  const text = await ctx.readFile('~/api-answer.txt');
  if (text === null) return { passed: false, expected, found: 'no ~/api-answer.txt', message: 'There is no file ~/api-answer.txt in your workbench yet.' };
  const line = text.split('\n').find((l) => l.includes('Hello from demo-web'));
  if (!line) {
    const first = text.trim().split('\n')[0] ?? '';
    return {
      passed: false,
      expected,
      found: first.slice(0, 120) || '(an empty file)',
      message: /nginx/i.test(text) ? 'That answer came from nginx, the shop; call http://api, the backend.' : "~/api-answer.txt does not hold the demo app's answer; save what wget -qO- http://api prints.",
    };
  }
  const servedBy = pods.find((name) => line.includes(name));
  return servedBy
    ? { passed: true, expected, found: line.trim(), message: `The request went through the Service api and ${servedBy} answered it.` }
    : { passed: false, expected, found: line.trim(), message: 'That answer names no api pod of this namespace; send the request again, through http://api.' };
};
