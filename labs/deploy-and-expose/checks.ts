// Custom checks of the deploy-and-expose lab.
import type { CustomCheck } from '../../src/labs/index.ts';

interface Slice {
  endpoints?: Array<{ addresses?: string[]; conditions?: { ready?: boolean } }>;
}

/** ~/endpoints.txt names exactly the ready addresses the EndpointSlices of the Service web list. */
export const endpointsRecorded: CustomCheck = async (ctx) => {
  const slices = (await ctx.list('endpointslices', { selector: 'kubernetes.io/service-name=web' })) as unknown as Slice[];
  const actual = slices.flatMap((slice) => (slice.endpoints ?? []).filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses ?? [])).sort();
  const expected = actual.join(' ') || '(the Service web has no endpoints yet)';
  const text = await ctx.readFile('~/endpoints.txt');
  if (text === null) return { passed: false, expected, found: 'no ~/endpoints.txt', message: 'There is no file ~/endpoints.txt in your workbench yet.' };
  const written = text.split(/\s+/).filter(Boolean).sort();
  const passed = actual.length > 0 && written.join(' ') === actual.join(' ');
  return {
    passed,
    expected,
    found: written.join(' ') || '(an empty file)',
    message: passed
      ? '~/endpoints.txt lists every address behind the Service web.'
      : `~/endpoints.txt lists ${written.length ? written.join(', ') : 'nothing'}; the Service web sends traffic to ${actual.join(', ') || 'no pod yet'}.`,
  };
};
