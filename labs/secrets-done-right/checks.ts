// Custom checks of the secrets-done-right lab.
import type { CustomCheck } from '../../src/labs/index.ts';

type Fields = Record<string, unknown>;

const record = (value: unknown): Fields => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Fields) : {});
const list = (value: unknown): Fields[] => (Array.isArray(value) ? value.map(record) : []);

/** The Secret's password, decoded; null when the Secret is gone. */
async function password(ctx: Parameters<CustomCheck>[0]): Promise<string | null> {
  const secret = await ctx.get('secret', 'payments-db');
  const encoded = record(secret?.['data'])['password'];
  return typeof encoded === 'string' ? Buffer.from(encoded, 'base64').toString('utf8') : null;
}

/** ~/password.txt holds the decoded password. */
export const passwordDecoded: CustomCheck = async (ctx) => {
  const expected = 'the decoded password of payments-db';
  const text = await ctx.readFile('~/password.txt');
  if (text === null) return { passed: false, expected, found: 'no ~/password.txt', message: 'There is no file ~/password.txt in your workbench yet.' };
  const secret = await password(ctx);
  if (secret === null) return { passed: false, expected, found: 'no Secret payments-db', message: 'The Secret payments-db is gone; the next steps need it.' };
  const answer = text.trim();
  if (answer === secret) return { passed: true, expected, found: '(the password)', message: 'One command and no key: base64 hides nothing from anyone who may read the Secret.' };
  if (answer === Buffer.from(secret).toString('base64')) return { passed: false, expected, found: '(the base64 text)', message: '~/password.txt holds the base64 text; decode it with base64 -d.' };
  return { passed: false, expected, found: `${answer.length} characters`, message: '~/password.txt does not hold the password of payments-db; save only the decoded value of its password key.' };
};

/** payments' pod template neither types the credentials nor puts them in the environment. */
export const passwordNotInTemplate: CustomCheck = async (ctx) => {
  const deployment = await ctx.get('deployment', 'payments');
  const expected = 'no DB_USER or DB_PASSWORD in the environment, and the password nowhere in the template';
  if (!deployment) return { passed: false, expected, found: 'no Deployment payments', message: 'The Deployment payments is gone; this step asks you to change it.' };
  const secret = await password(ctx);
  const spec = record(record(record(deployment['spec'])['template'])['spec']);
  const containers = [...list(spec['initContainers']), ...list(spec['containers'])];
  const variables = containers.flatMap((container) => list(container['env']).map((env) => ({ container: String(container['name']), env })));
  const typed = secret === null ? [] : variables.filter(({ env }) => env['value'] === secret);
  const credentials = variables.filter(({ env }) => env['name'] === 'DB_USER' || env['name'] === 'DB_PASSWORD');
  const fromSecret = containers.filter((container) => list(container['envFrom']).some((source) => record(source['secretRef'])['name'] === 'payments-db'));
  const found = [...new Set([...credentials, ...typed].map(({ env }) => `${String(env['name'])}${env['valueFrom'] ? ' (from a Secret)' : ''}`))].join(', ') || (fromSecret.length ? 'envFrom secret payments-db' : 'none');
  if (typed.length) return { passed: false, expected, found, message: `The password is still typed into the Deployment (${typed.map(({ env }) => String(env['name'])).join(', ')}): everyone who may read Deployments may read it.` };
  if (credentials.length || fromSecret.length) {
    return {
      passed: false,
      expected,
      found,
      message: 'The credentials still reach payments through its environment. secretKeyRef at least keeps the password out of the Deployment, but this step asks for files: remove DB_USER and DB_PASSWORD and mount payments-db at /etc/payments-db.',
    };
  }
  return { passed: true, expected, found, message: 'The password is in one place, the Secret, and reaches payments only as a file.' };
};
