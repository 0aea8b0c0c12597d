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

/** The Service shop's endpoints are exactly the Ready shop pods. */
export const shopEndpointsAreShopPods: CustomCheck = async (ctx) => {
  const pods = (await ctx.list('pods', { selector: 'app=shop' })).filter((pod) => !pod.metadata.deletionTimestamp);
  const podIPs = pods.map((pod) => String((pod.status as { podIP?: string } | undefined)?.podIP ?? '')).filter(Boolean).sort();
  const endpoints = await ctx.get('endpoints', 'shop');
  const subsets = (endpoints?.['subsets'] ?? []) as Array<{ addresses?: Array<{ ip: string }> }>;
  const addresses = subsets.flatMap((subset) => (subset.addresses ?? []).map((address) => address.ip)).sort();
  const passed = addresses.length > 0 && addresses.join(' ') === podIPs.join(' ');
  return {
    passed,
    expected: `endpoints ${podIPs.join(', ')}`,
    found: addresses.length ? `endpoints ${addresses.join(', ')}` : 'no endpoints',
    message: passed
      ? `The Service shop sends traffic to both shop pods (${addresses.join(', ')}).`
      : addresses.length
        ? `The Service shop sends traffic to ${addresses.join(', ')}, but the shop pods are ${podIPs.join(', ')}.`
        : 'The Service shop still has no endpoints: its selector matches no Ready pod.',
  };
};
