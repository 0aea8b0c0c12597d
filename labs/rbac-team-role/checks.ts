// Custom checks of the rbac-team-role lab.
import type { CustomCheck } from '../../src/labs/index.ts';

type Fields = Record<string, unknown>;

const record = (value: unknown): Fields => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Fields) : {});
const list = (value: unknown): Fields[] => (Array.isArray(value) ? value.map(record) : []);

/** ~/refused.txt holds the API server's escalation refusal. */
export const refusalSaved: CustomCheck = async (ctx) => {
  const text = await ctx.readFile('~/refused.txt');
  const expected = 'a refusal that says "is attempting to grant RBAC permissions not currently held"';
  if (text === null) return { passed: false, expected, found: 'no ~/refused.txt', message: 'There is no file ~/refused.txt in your workbench yet.' };
  const found = text.trim().slice(0, 200) || '(an empty file)';
  if (!text.includes('is attempting to grant RBAC permissions not currently held')) {
    return { passed: false, expected, found, message: '~/refused.txt does not hold the API server\'s refusal. kubectl prints errors on standard error: redirect it with 2> ~/refused.txt.' };
  }
  return { passed: true, expected, found, message: 'That is escalation prevention: the refusal lists exactly the permissions you would have granted without holding them.' };
};

/** Every RoleBinding that names deployer refers to a Role of this namespace, and at least one does. */
export const boundToARole: CustomCheck = async (ctx) => {
  const bindings = (await ctx.list('rolebindings')).filter((binding) =>
    list(binding['subjects']).some((subject) => subject['kind'] === 'ServiceAccount' && subject['name'] === 'deployer' && (subject['namespace'] ?? ctx.namespace) === ctx.namespace),
  );
  const expected = 'RoleBindings of deployer that refer to a Role';
  const describe = (binding: Fields) => `${String(record(binding['metadata'])['name'])} → ${String(record(binding['roleRef'])['kind'])} ${String(record(binding['roleRef'])['name'])}`;
  const found = bindings.map(describe).join(', ') || 'no RoleBinding names deployer';
  if (!bindings.length) return { passed: false, expected, found, message: 'No RoleBinding names the ServiceAccount deployer yet: a Role grants nothing until it is bound.' };
  const toClusterRoles = bindings.filter((binding) => record(binding['roleRef'])['kind'] !== 'Role');
  if (toClusterRoles.length) {
    return { passed: false, expected, found, message: `${toClusterRoles.map(describe).join(', ')}: the deployer is bound to a ClusterRole, whose rules were written for everyone who needs it. Bind it to a Role written for the pipeline, and delete this binding.` };
  }
  return { passed: true, expected, found, message: 'The deployer is bound to Roles written for it.' };
};
