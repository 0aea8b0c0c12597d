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

/** ~/nodes.txt holds kubectl auth can-i's answer for listing nodes: `no`, and nothing else. */
export const nodesAnswerWritten: CustomCheck = async (ctx) => {
  const text = await ctx.readFile('~/nodes.txt');
  if (text === null) return { passed: false, expected: 'no', found: 'no ~/nodes.txt', message: 'There is no file ~/nodes.txt in your workbench yet.' };
  const answer = text.trim();
  if (answer === 'no') return { passed: true, expected: 'no', found: answer, message: 'Right: nodes are cluster-scoped, and your permissions end at your namespace.' };
  return {
    passed: false,
    expected: 'no',
    found: answer || '(an empty file)',
    message: answer === 'yes' ? 'kubectl auth can-i says no for you here; did you ask as another user, or about another verb?' : `~/nodes.txt says ${JSON.stringify(answer.slice(0, 80))}; write only what kubectl auth can-i list nodes answers, yes or no.`,
  };
};

interface ManagedField {
  manager?: string;
  operation?: string;
}

/**
 * The ConfigMap notes was created or updated by kubectl apply: client-side apply leaves its
 * last-applied-configuration annotation, server-side apply a field manager with operation Apply.
 */
export const notesApplied: CustomCheck = async (ctx) => {
  const notes = await ctx.get('configmap', 'notes');
  const expected = 'the ConfigMap notes, applied from ~/notes.yaml (kubectl apply or kubectl apply --server-side)';
  if (!notes) return { passed: false, expected, found: 'no ConfigMap notes', message: 'There is no ConfigMap notes yet; apply ~/notes.yaml.' };
  const managers = ((notes.metadata as { managedFields?: ManagedField[] }).managedFields ?? []).map((field) => `${field.manager ?? '?'} (${field.operation ?? '?'})`);
  const clientSide = Boolean(notes.metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration']);
  const serverSide = ((notes.metadata as { managedFields?: ManagedField[] }).managedFields ?? []).some((field) => field.operation === 'Apply');
  const found = managers.join(', ') || 'no field managers';
  if (clientSide || serverSide) return { passed: true, expected, found, message: `The ConfigMap notes was applied ${serverSide ? 'server-side' : 'with kubectl apply'}; apply it again after every edit of the file.` };
  return {
    passed: false,
    expected,
    found,
    message: managers.some((m) => m.startsWith('kubectl-create'))
      ? 'The ConfigMap notes was made with kubectl create, so kubectl apply has no record of it yet. Run kubectl apply -f ~/notes.yaml: it adopts the object (with a warning) and manages it from now on.'
      : 'The ConfigMap notes was not made by kubectl apply; apply it from ~/notes.yaml.',
  };
};
