// Custom checks of the namespaces-and-kubectl lab.
import type { CustomCheck } from '../../src/labs/index.ts';

/** ~/namespace.txt holds the sandbox namespace's name. */
export const namespaceWritten: CustomCheck = async (ctx) => {
  const text = await ctx.readFile('~/namespace.txt');
  if (text === null) return { passed: false, expected: ctx.namespace, found: 'no ~/namespace.txt', message: 'There is no file ~/namespace.txt in your workbench yet.' };
  const written = text.trim();
  const passed = written === ctx.namespace;
  return {
    passed,
    expected: ctx.namespace,
    found: written || '(an empty file)',
    message: passed ? `Right: you work in the namespace ${ctx.namespace}.` : `~/namespace.txt says ${JSON.stringify(written)}; your context's namespace has another name.`,
  };
};

/** ~/pods-allowed.txt holds the pod limit of the sandbox's ResourceQuota. */
export const podBudgetWritten: CustomCheck = async (ctx) => {
  const quota = await ctx.get('resourcequota', 'lab-budget');
  const hard = String(((quota?.spec as { hard?: Record<string, string> } | undefined)?.hard ?? {})['pods'] ?? '');
  const text = await ctx.readFile('~/pods-allowed.txt');
  if (text === null) return { passed: false, expected: hard, found: 'no ~/pods-allowed.txt', message: 'There is no file ~/pods-allowed.txt in your workbench yet.' };
  const written = text.trim();
  const passed = written === hard;
  return {
    passed,
    expected: hard,
    found: written || '(an empty file)',
    message: passed ? `Right: the quota allows ${hard} pods, the workbench included.` : `~/pods-allowed.txt says ${JSON.stringify(written)}; look at the hard limit for pods in kubectl describe resourcequota.`,
  };
};
