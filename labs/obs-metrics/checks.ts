// Custom checks of the obs-metrics lab.
import { parseQuantity, type CustomCheck } from '../../src/labs/index.ts';

/** ~/busiest-pod.txt names the resizer pod, the only one that works all the time. */
export const busiestPodNamed: CustomCheck = async (ctx) => {
  const pods = (await ctx.list('pods')).filter((pod) => !pod.metadata.deletionTimestamp).map((pod) => ({ name: pod.metadata.name ?? '', app: pod.metadata.labels?.app ?? '' }));
  const busiest = pods.filter((pod) => pod.app === 'resizer').map((pod) => pod.name);
  const expected = busiest.join(', ') || 'the resizer pod';
  const text = await ctx.readFile('~/busiest-pod.txt');
  if (text === null) return { passed: false, expected, found: 'no ~/busiest-pod.txt', message: 'There is no file ~/busiest-pod.txt in your workbench yet.' };
  const answer = text.trim().replace(/^pod\//, '');
  const found = answer.slice(0, 80) || '(an empty file)';
  if (busiest.includes(answer)) return { passed: true, expected, found, message: `Right: ${answer} uses far more CPU than it asks for.` };
  if (['resizer', 'web', 'cache', 'orders'].includes(answer))
    return { passed: false, expected, found, message: `${answer} is a Deployment; kubectl top pods measures pods. Write the pod's name.` };
  const pod = pods.find((p) => p.name === answer);
  if (pod)
    return {
      passed: false,
      expected,
      found,
      message: pod.app === 'cache' ? `${answer} uses the most memory, not the most CPU. Sort by cpu.` : `${answer} is nearly idle. Sort kubectl top pods by cpu.`,
    };
  return { passed: false, expected, found, message: `~/busiest-pod.txt says ${JSON.stringify(found)}; write only the name of the pod that uses the most CPU.` };
};

/** resizer keeps a CPU limit of at least 200m (the API server already refuses a limit below the request). */
export const resizerKeepsItsCeiling: CustomCheck = async (ctx) => {
  const deployment = await ctx.get('deployment', 'resizer');
  const resources = (deployment?.spec as { template?: { spec?: { containers?: Array<{ resources?: { requests?: { cpu?: string }; limits?: { cpu?: string } } }> } } } | undefined)?.template?.spec?.containers?.[0]?.resources;
  const limit = resources?.limits?.cpu;
  const request = resources?.requests?.cpu;
  const expected = 'a CPU limit of 200m or more';
  const found = `request ${request ?? 'none'}, limit ${limit ?? 'none'}`;
  if (!limit) return { passed: false, expected, found, message: 'resizer has no CPU limit of its own any more; the namespace\'s LimitRange would give it one of 200m. Keep its limit.' };
  if ((parseQuantity(limit) ?? 0) < 0.2) return { passed: false, expected, found, message: `resizer's CPU limit is ${limit} now, below the 200m it had: it would be throttled harder.` };
  return { passed: true, expected, found, message: 'resizer keeps its CPU ceiling.' };
};

/** ~/failing-path.txt names the path whose requests orders counts as failed (status 502). */
export const failingPathNamed: CustomCheck = async (ctx) => {
  const expected = '/pay';
  const text = await ctx.readFile('~/failing-path.txt');
  if (text === null) return { passed: false, expected, found: 'no ~/failing-path.txt', message: 'There is no file ~/failing-path.txt in your workbench yet.' };
  const answer = text.trim().replace(/^"|"$/g, '');
  const found = answer.slice(0, 80) || '(an empty file)';
  if (answer === expected || answer === 'pay') return { passed: true, expected, found, message: 'Right: /pay answers 502 again and again; a rate of that counter is what an alert would watch.' };
  if (answer === '/cart') return { passed: false, expected, found, message: '/cart has the most requests, and all of them answer 200. Look for the series whose status label is a 5xx.' };
  if (/^5\d\d$/.test(answer)) return { passed: false, expected, found, message: `${answer} is the status label; write the path label of that series.` };
  return { passed: false, expected, found, message: `~/failing-path.txt says ${JSON.stringify(found)}; write only the value of the path label of the series that counts failed requests.` };
};
