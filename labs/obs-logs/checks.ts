// Custom checks of the obs-logs lab.
import type { CustomCheck } from '../../src/labs/index.ts';

/** ~/failing-pod.txt names the one checkout pod whose app container logs payment errors. */
export const failingPodNamed: CustomCheck = async (ctx) => {
  const pods = (await ctx.list('pods', { selector: 'app=checkout' })).filter((pod) => !pod.metadata.deletionTimestamp);
  const failing: string[] = [];
  for (const name of pods.map((pod) => pod.metadata.name ?? '')) {
    const log = await ctx.logs(name, 'app').catch(() => '');
    if (log.includes(' ERROR ')) failing.push(name);
  }
  const expected = failing.join(', ') || 'the pod whose app logs ERROR lines';
  const text = await ctx.readFile('~/failing-pod.txt');
  if (text === null) return { passed: false, expected, found: 'no ~/failing-pod.txt', message: 'There is no file ~/failing-pod.txt in your workbench yet.' };
  const answer = text.trim().replace(/^pod\//, '');
  const found = answer.slice(0, 80) || '(an empty file)';
  if (failing.length > 0 && failing.includes(answer)) return { passed: true, expected, found, message: `Right: ${answer} logs the payment errors; the other pods complete their orders.` };
  if (answer === 'checkout') return { passed: false, expected, found, message: 'checkout is the StatefulSet; one of its three pods fails. Write that pod\'s name, as the prefix [pod/NAME/app] shows it.' };
  if (pods.some((pod) => pod.metadata.name === answer))
    return { passed: false, expected, found, message: `${answer}'s app container logs no payment errors. Read all three pods' app logs with -l app=checkout --prefix and look for ERROR.` };
  return { passed: false, expected, found, message: `~/failing-pod.txt says ${JSON.stringify(found)}; write only the name of one checkout pod, the one whose app logs ERROR lines.` };
};
