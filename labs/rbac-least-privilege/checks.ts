// Custom checks of the rbac-least-privilege lab.
import type { CustomCheck } from '../../src/labs/index.ts';

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
}

/** pod-reader grants get/list/watch on pods and get on pods/log, and nothing beyond pods. */
export const podReaderRules: CustomCheck = async (ctx) => {
  const role = await ctx.get('role', 'pod-reader');
  const rules = ((role?.['rules'] ?? []) as Rule[]).filter((rule) => (rule.apiGroups ?? []).includes(''));
  const grants = (resource: string, verb: string) => rules.some((rule) => (rule.resources ?? []).some((r) => r === resource || r === '*') && (rule.verbs ?? []).some((v) => v === verb || v === '*'));
  const wanted: Array<[string, string]> = [
    ['pods', 'get'],
    ['pods', 'list'],
    ['pods', 'watch'],
    ['pods/log', 'get'],
  ];
  const missing = wanted.filter(([resource, verb]) => !grants(resource, verb)).map(([resource, verb]) => `${verb} ${resource}`);
  const allRules = (role?.['rules'] ?? []) as Rule[];
  const extra = allRules.flatMap((rule) => (rule.resources ?? []).filter((r) => r !== 'pods' && r !== 'pods/log').map((r) => `${(rule.verbs ?? []).join(',')} ${r}`));
  const writes = allRules.flatMap((rule) => (rule.verbs ?? []).filter((v) => !['get', 'list', 'watch'].includes(v)));
  const found = allRules.map((rule) => `${(rule.verbs ?? []).join(',')} on ${(rule.resources ?? []).join(',')}`).join('; ') || 'no rules';
  const expected = 'get, list, watch on pods; get on pods/log; nothing else';
  if (!role) return { passed: false, expected, found: 'no Role pod-reader', message: 'There is no Role pod-reader in your namespace yet.' };
  if (missing.length) return { passed: false, expected, found, message: `The Role pod-reader does not allow ${missing.join(', ')} yet.` };
  if (extra.length || writes.length) return { passed: false, expected, found, message: `The Role pod-reader allows more than reading pods (${[...extra, ...writes.map((v) => `${v} pods`)].join(', ')}); a monitor needs only to read.` };
  return { passed: true, expected, found, message: 'The Role pod-reader allows reading pods and their logs, and nothing else.' };
};

/** ~/monitor-delete-pods.txt holds kubectl auth can-i's answer, `no`, and nothing else. */
export const deleteAnswerSaved: CustomCheck = async (ctx) => {
  const text = await ctx.readFile('~/monitor-delete-pods.txt');
  const expected = 'no';
  if (text === null) return { passed: false, expected, found: 'no ~/monitor-delete-pods.txt', message: 'There is no file ~/monitor-delete-pods.txt in your workbench yet.' };
  const answer = text.trim();
  if (answer === 'no') return { passed: true, expected, found: answer, message: 'The monitor may not delete pods, and you have the answer in writing.' };
  return {
    passed: false,
    expected,
    found: answer || '(an empty file)',
    message:
      answer === 'yes'
        ? 'kubectl auth can-i answered yes: the monitor may delete pods. Look at what its RoleBinding grants.'
        : `~/monitor-delete-pods.txt says ${JSON.stringify(answer.slice(0, 80))}; it should hold only what kubectl auth can-i answers, yes or no.`,
  };
};
