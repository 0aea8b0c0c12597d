// What the declarative checks cannot say: "no shop pod runs on the node under maintenance", whose
// name the setup chose at random (any node but the one holding the learner's terminal).
import type { CustomCheck } from '../../src/labs/index.ts';

export const shopLeftTheNode: CustomCheck = async (ctx) => {
  const [node] = await ctx.list('nodes', { selector: 'maintenance=due' });
  const name = node?.metadata.name;
  if (!name) return { passed: false, expected: 'a node labelled maintenance=due', found: 'none', message: 'No node is labelled maintenance=due any more; put the label back on the node you drained (kubectl label node NAME maintenance=due).' };
  const stillThere = (await ctx.list('pods', { selector: 'app=shop', fieldSelector: `spec.nodeName=${name}` })).filter((pod) => !pod.metadata.deletionTimestamp);
  const expected = `no shop pod on ${name}`;
  if (stillThere.length === 0) return { passed: true, expected, found: `no shop pod on ${name}`, message: `Every shop pod has left ${name}.` };
  return {
    passed: false,
    expected,
    found: `${stillThere.length} on it`,
    message: `${stillThere.length === 1 ? 'One shop pod still runs' : `${stillThere.length} shop pods still run`} on ${name} (${stillThere.map((pod) => pod.metadata.name).join(', ')}); cordoning keeps new pods away, but only a drain moves the ones already there.`,
  };
};
