// Custom checks of the peak-sale capstone.
import type { CustomCheck, KubeObject } from '../../src/labs/index.ts';

interface Container {
  name?: string;
  lifecycle?: { preStop?: { sleep?: { seconds?: number }; exec?: { command?: string[] } } };
}

/** The storefront container pauses at least 5 s in preStop, inside its grace period. */
export const pausesBeforeStop: CustomCheck = async (ctx) => {
  const deployment = await ctx.get('deployment', 'storefront');
  const podSpec = (deployment?.spec as { template?: { spec?: { containers?: Container[]; terminationGracePeriodSeconds?: number } } } | undefined)?.template?.spec;
  const preStop = (podSpec?.containers ?? []).find((c) => c.name === 'storefront')?.lifecycle?.preStop;
  const grace = podSpec?.terminationGracePeriodSeconds ?? 30;
  const match = /\bsleep\s+(\d+)/.exec((preStop?.exec?.command ?? []).join(' '));
  const pause = preStop?.sleep?.seconds ?? (match ? Number(match[1]) : null);
  const expected = 'a preStop pause of at least 5 s, well inside the grace period';
  const found = preStop ? `${pause === null ? 'a hook without a pause' : `${pause} s pause`}, grace period ${grace} s` : 'no preStop hook';
  if (pause === null) return { passed: false, expected, found, message: 'The storefront has no preStop pause yet: every scale-down and rollout would drop the requests that arrive while its endpoint is removed.' };
  if (pause < 5) return { passed: false, expected, found, message: `A ${pause}-second pause is shorter than asked (5 s).` };
  if (grace < pause + 10) return { passed: false, expected, found, message: `The grace period (${grace} s) leaves too little time after the ${pause}-second pause; make it at least ${pause + 10} s.` };
  return { passed: true, expected, found, message: `The storefront pauses ${pause} s before it stops, inside a ${grace}-second grace period.` };
};

const restarts = (pod: KubeObject) => ((pod.status as { containerStatuses?: Array<{ restartCount?: number }> } | undefined)?.containerStatuses ?? []).reduce((sum, s) => sum + (s.restartCount ?? 0), 0);

/** No storefront pod restarted under load. */
export const noStorefrontRestarts: CustomCheck = async (ctx) => {
  const pods = (await ctx.list('pods', { selector: 'app=storefront' })).filter((pod) => !pod.metadata.deletionTimestamp);
  const restarted = pods.filter((pod) => restarts(pod) > 0);
  const found = pods.map((pod) => `${pod.metadata.name}: ${restarts(pod)}`).join(', ') || 'no pods';
  return restarted.length === 0 && pods.length > 0
    ? { passed: true, expected: 'no restarts', found, message: 'No storefront pod restarted.' }
    : { passed: false, expected: 'no restarts', found, message: pods.length ? `${restarted.map((pod) => pod.metadata.name).join(', ')} restarted under load; look at its events and its previous log.` : 'There are no storefront pods.' };
};
