// Custom checks of the secure-ops-audit capstone. Their messages name the area of a problem, not
// its fix: finding it is the exercise.
import type { CustomCheck } from '../../src/labs/index.ts';

type Fields = Record<string, unknown>;

const record = (value: unknown): Fields => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Fields) : {});
const list = (value: unknown): Fields[] => (Array.isArray(value) ? value.map(record) : []);

/** support-bot may still read pods and logs, and may not read Secrets through any rule bound to it. */
export const supportReadsNoSecrets: CustomCheck = async (ctx) => {
  const expected = 'support-bot: get/list pods and get pods/log; no access to secrets';
  const bindings = (await ctx.list('rolebindings')).filter((b) => list(b['subjects']).some((s) => s['kind'] === 'ServiceAccount' && s['name'] === 'support-bot'));
  const rules: Fields[] = [];
  for (const binding of bindings) {
    const ref = record(binding['roleRef']);
    const role = ref['kind'] === 'Role' ? await ctx.get('role', String(ref['name'])) : await ctx.get('clusterrole', String(ref['name']));
    rules.push(...list(role?.['rules']));
  }
  const strings = (value: unknown): string[] => (Array.isArray(value) ? value.map(String) : []);
  const grants = (resource: string, verb: string) =>
    rules.some((rule) => {
      const groups = strings(rule['apiGroups']);
      return (groups.includes('') || groups.includes('*')) && strings(rule['resources']).some((r) => r === resource || r === '*') && strings(rule['verbs']).some((v) => v === verb || v === '*');
    });
  const secretVerbs = ['get', 'list', 'watch'].filter((verb) => grants('secrets', verb));
  const found = rules.map((rule) => `${strings(rule['verbs']).join(',')} on ${strings(rule['resources']).join(',')}`).join('; ') || 'no rules bound';
  if (secretVerbs.length) return { passed: false, expected, found, message: `RBAC: support-bot may ${secretVerbs.join(' and ')} Secrets — and list or watch reveal every value. A chatbot that reads pods and logs needs none of it.` };
  if (!grants('pods', 'get') || !grants('pods', 'list') || !grants('pods/log', 'get')) return { passed: false, expected, found, message: 'RBAC: support-bot can no longer read pods and their logs, and the support team needs that. Remove only what it should not have.' };
  return { passed: true, expected, found, message: 'support-bot reads pods and their logs, and no Secrets.' };
};

/** The orders password is nowhere in the Deployments, only in the Secret. */
export const passwordOnlyInSecret: CustomCheck = async (ctx) => {
  const expected = 'no Deployment with the database password typed in';
  const secret = await ctx.get('secret', 'orders-db');
  const encoded = record(secret?.['data'])['password'];
  if (typeof encoded !== 'string') return { passed: false, expected, found: 'no Secret orders-db with a password', message: 'Secrets: the Secret orders-db (or its password key) is gone; orders needs it.' };
  const password = Buffer.from(encoded, 'base64').toString('utf8');
  const typed: string[] = [];
  for (const deployment of await ctx.list('deployments')) {
    const spec = record(record(record(deployment['spec'])['template'])['spec']);
    for (const container of [...list(spec['initContainers']), ...list(spec['containers'])]) {
      for (const env of list(container['env'])) if (env['value'] === password) typed.push(`${String(record(deployment['metadata'])['name'])}/${String(container['name'])} ${String(env['name'])}`);
    }
  }
  if (typed.length) return { passed: false, expected, found: typed.join(', '), message: 'Secrets: a database password is typed into a Deployment, readable by everyone who may read Deployments. Keep it only in its Secret and refer to it.' };
  return { passed: true, expected, found: 'none', message: 'The password lives only in its Secret.' };
};

/** orders' pod template meets the restricted level, with a user a node can verify. */
export const ordersRestricted: CustomCheck = async (ctx) => {
  const expected = 'orders: runAsNonRoot with a non-zero runAsUser, allowPrivilegeEscalation false, capabilities drop ALL, seccomp RuntimeDefault or Localhost';
  const deployment = await ctx.get('deployment', 'orders');
  if (!deployment) return { passed: false, expected, found: 'no Deployment orders', message: 'Pod security: the Deployment orders is gone; fix it, do not delete it.' };
  const spec = record(record(record(deployment['spec'])['template'])['spec']);
  const pod = record(spec['securityContext']);
  const problems: string[] = [];
  for (const container of [...list(spec['initContainers']), ...list(spec['containers'])]) {
    const own = record(container['securityContext']);
    const name = String(container['name']);
    const user = own['runAsUser'] ?? pod['runAsUser'];
    if ((own['runAsNonRoot'] ?? pod['runAsNonRoot']) !== true || typeof user !== 'number' || user === 0) problems.push(`${name} may run as root`);
    if (own['allowPrivilegeEscalation'] !== false) problems.push(`${name} may escalate privileges`);
    const drop = record(own['capabilities'])['drop'];
    if (!Array.isArray(drop) || !drop.includes('ALL')) problems.push(`${name} keeps capabilities`);
    const seccomp = String(record(own['seccompProfile'] ?? pod['seccompProfile'])['type'] ?? '');
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost') problems.push(`${name} has no seccomp profile`);
  }
  if (problems.length) return { passed: false, expected, found: problems.join('; '), message: `Pod security: a Deployment would be refused at the restricted level (${problems.join('; ')}).` };
  return { passed: true, expected, found: 'restricted', message: 'orders meets the restricted level, with a user the node can verify.' };
};
