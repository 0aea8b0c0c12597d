// Custom checks of the peak-right-size lab.
import type { CustomCheck } from '../../src/labs/index.ts';

/** ~/blocked-by.txt names the ResourceQuota that refuses checkout's third pod. */
export const quotaNamed: CustomCheck = async (ctx) => {
  const text = await ctx.readFile('~/blocked-by.txt');
  const expected = 'lab-budget';
  if (text === null) return { passed: false, expected, found: 'no ~/blocked-by.txt', message: 'There is no file ~/blocked-by.txt in your workbench yet.' };
  const answer = text.trim();
  if (answer === expected) return { passed: true, expected, found: answer, message: 'Right: lab-budget refuses the third pod; its CPU requests would pass the 2100m the namespace may request.' };
  return {
    passed: false,
    expected,
    found: answer || '(an empty file)',
    message: `~/blocked-by.txt says ${JSON.stringify(answer.slice(0, 80))}; write only the quota's name, as the FailedCreate event gives it after "exceeded quota:".`,
  };
};

/** Every running checkout pod is Guaranteed (limits equal to requests for CPU and memory). */
export const checkoutGuaranteed: CustomCheck = async (ctx) => {
  const pods = (await ctx.list('pods', { selector: 'app=checkout' })).filter((pod) => !pod.metadata.deletionTimestamp);
  const classes = pods.map((pod) => `${pod.metadata.name}: ${String((pod.status as { qosClass?: string } | undefined)?.qosClass ?? 'unknown')}`);
  const others = pods.filter((pod) => (pod.status as { qosClass?: string } | undefined)?.qosClass !== 'Guaranteed');
  const expected = 'every checkout pod Guaranteed';
  const found = classes.join(', ') || 'no checkout pods';
  if (pods.length > 0 && others.length === 0) return { passed: true, expected, found, message: `All ${pods.length} checkout pods are Guaranteed: they get exactly what they were scheduled with and are evicted last.` };
  return {
    passed: false,
    expected,
    found,
    message: pods.length
      ? `${others.length} checkout pod${others.length === 1 ? ' is' : 's are'} not Guaranteed (${others.map((pod) => String((pod.status as { qosClass?: string } | undefined)?.qosClass)).join(', ')}): set CPU and memory limits equal to the requests.`
      : 'There are no checkout pods yet.',
  };
};
