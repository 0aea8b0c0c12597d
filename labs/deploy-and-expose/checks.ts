// Custom checks of the deploy-and-expose lab.
import type { CustomCheck } from '../../src/labs/index.ts';

/** ~/endpoints.txt names exactly the addresses behind the Service web. */
export const endpointsRecorded: CustomCheck = async (ctx) => {
  const endpoints = await ctx.get('endpoints', 'web');
  const subsets = (endpoints?.['subsets'] ?? []) as Array<{ addresses?: Array<{ ip: string }> }>;
  const actual = subsets.flatMap((subset) => (subset.addresses ?? []).map((address) => address.ip)).sort();
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
