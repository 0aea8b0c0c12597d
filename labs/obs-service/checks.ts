// Custom checks of the obs-service lab.
import type { CustomCheckContext, CustomCheck } from '../../src/labs/index.ts';

interface Slice {
  endpoints?: Array<{ addresses?: string[]; conditions?: { ready?: boolean } }>;
  ports?: Array<{ port?: number }>;
}

async function podIPs(ctx: CustomCheckContext, selector: string): Promise<string[]> {
  const pods = (await ctx.list('pods', { selector })).filter((pod) => !pod.metadata.deletionTimestamp);
  return pods.map((pod) => String((pod.status as { podIP?: string } | undefined)?.podIP ?? '')).filter(Boolean).sort();
}

/** The ready addresses and the ports the EndpointSlices of a Service list. */
async function serving(ctx: CustomCheckContext, service: string): Promise<{ addresses: string[]; ports: number[] }> {
  const slices = (await ctx.list('endpointslices', { selector: `kubernetes.io/service-name=${service}` })) as unknown as Slice[];
  const addresses = slices.flatMap((slice) => (slice.endpoints ?? []).filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses ?? [])).sort();
  const ports = [...new Set(slices.flatMap((slice) => (slice.ports ?? []).map((p) => p.port ?? 0)))].sort();
  return { addresses, ports };
}

/** The Service catalog sends traffic to exactly the catalog pods. */
export const catalogEndpointsAreCatalogPods: CustomCheck = async (ctx) => {
  const ips = await podIPs(ctx, 'app.kubernetes.io/name=catalog');
  const { addresses } = await serving(ctx, 'catalog');
  const expected = `endpoints ${ips.join(', ')}`;
  const found = addresses.length ? `endpoints ${addresses.join(', ')}` : 'no endpoints';
  const others = addresses.filter((ip) => !ips.includes(ip));
  if (!addresses.length) return { passed: false, expected, found, message: 'The Service catalog still has no endpoints: its selector matches no Ready pod. Compare it with the catalog pods\' labels.' };
  if (others.length)
    return { passed: false, expected, found, message: `The Service catalog also sends traffic to ${others.join(', ')}, which ${others.length === 1 ? 'is not a catalog pod' : 'are not catalog pods'}: a label every pod of the shop has selects them all.` };
  if (addresses.join() !== ips.join()) return { passed: false, expected, found, message: 'The Service catalog does not list both catalog pods yet.' };
  return { passed: true, expected, found, message: 'The Service catalog sends traffic to both catalog pods and nothing else.' };
};

/** A saved answer names a pod of the app: the request really went through. */
async function answered(ctx: CustomCheckContext, file: string, app: string): Promise<{ passed: boolean; expected: string; found: string; message: string }> {
  const pods = (await ctx.list('pods', { selector: `app.kubernetes.io/name=${app}` })).map((pod) => pod.metadata.name ?? '');
  const expected = `"Hello from demo-web … on ${app}-…"`;
  const text = await ctx.readFile(file);
  if (text === null) return { passed: false, expected, found: `no ${file}`, message: `There is no file ${file} in your workbench yet.` };
  const line = text.split('\n').find((l) => l.includes('Hello from demo-web'));
  const first = (line ?? text.trim().split('\n')[0] ?? '').trim().slice(0, 120) || '(an empty file)';
  if (!line) return { passed: false, expected, found: first, message: `${file} does not hold an answer of the app; save what curl -sS http://${app}/ prints once it answers.` };
  const servedBy = pods.find((name) => line.includes(name));
  if (!servedBy) return { passed: false, expected, found: first, message: `That answer came from no ${app} pod of this namespace; send the request to http://${app}/ again.` };
  return { passed: true, expected, found: first, message: `The request went through the Service ${app}, and ${servedBy} answered it.` };
}

export const catalogAnswered: CustomCheck = (ctx) => answered(ctx, '~/catalog-answer.txt', 'catalog');
export const cartAnswered: CustomCheck = (ctx) => answered(ctx, '~/cart-answer.txt', 'cart');

/** The Service cart still listens on 80 and forwards to the app's port 8080. */
export const cartForwardsToTheApp: CustomCheck = async (ctx) => {
  const service = await ctx.get('service', 'cart');
  const ports = (service?.spec as { ports?: Array<{ port?: number; targetPort?: number | string }> } | undefined)?.ports ?? [];
  const { addresses, ports: slicePorts } = await serving(ctx, 'cart');
  const expected = 'port 80 → pods on 8080';
  const found = `${ports.map((p) => `port ${String(p.port)} → targetPort ${String(p.targetPort)}`).join(', ') || 'no ports'}; endpoints on ${slicePorts.join(', ') || 'none'}`;
  if (!ports.some((p) => p.port === 80))
    return { passed: false, expected, found, message: 'The Service cart no longer offers port 80, and storefront and other clients call port 80. Change where it forwards to, not where clients call.' };
  if (!addresses.length) return { passed: false, expected, found, message: 'The Service cart has no endpoints any more; keep its selector as it was.' };
  if (!slicePorts.includes(8080)) return { passed: false, expected, found, message: 'The Service cart still forwards to a port the cart container does not listen on; its app listens on 8080 (the container port named http).' };
  return { passed: true, expected, found, message: 'Clients still call cart on port 80, and it forwards to 8080, where the app listens.' };
};

/** storefront calls cart by a name, not by an address. */
export const cartUrlByName: CustomCheck = async (ctx) => {
  const deployment = await ctx.get('deployment', 'storefront');
  const containers = (deployment?.spec as { template?: { spec?: { containers?: Array<{ name?: string; env?: Array<{ name?: string; value?: string }> }> } } } | undefined)?.template?.spec?.containers ?? [];
  const url = containers.find((c) => c.name === 'storefront')?.env?.find((e) => e.name === 'CART_URL')?.value ?? '';
  const expected = 'CART_URL with the name of the Service cart of this namespace';
  const found = url || 'no CART_URL';
  const host = /^(?:https?:\/\/)?([^/:]+)/.exec(url)?.[1] ?? '';
  if (/^\d+\.\d+\.\d+\.\d+$/.test(host))
    return { passed: false, expected, found, message: 'CART_URL names an IP address: it breaks the day the Service is recreated with another cluster IP. Use the Service\'s name.' };
  if (host === 'cart' || host === `cart.${ctx.namespace}` || host.startsWith(`cart.${ctx.namespace}.svc`))
    return { passed: true, expected, found, message: 'storefront calls cart by a name that resolves in this namespace.' };
  return { passed: false, expected, found, message: `CART_URL's host ${JSON.stringify(host)} is not a name of the Service cart in this namespace (${ctx.namespace}).` };
};
