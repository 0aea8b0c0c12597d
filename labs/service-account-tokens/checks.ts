// Custom checks of the service-account-tokens lab.
import type { CustomCheck, KubeObject } from '../../src/labs/index.ts';

type Fields = Record<string, unknown>;

const record = (value: unknown): Fields => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Fields) : {});
const list = (value: unknown): Fields[] => (Array.isArray(value) ? value.map(record) : []);

/** A pod's volumes that carry a ServiceAccount token (the admission plugin's kube-api-access-… or one written by hand). */
function tokenVolumes(pod: KubeObject): string[] {
  return list(record(pod['spec'])['volumes'])
    .filter((volume) => list(record(volume['projected'])['sources']).some((source) => source['serviceAccountToken']))
    .map((volume) => String(volume['name']));
}

const running = (pods: KubeObject[]) => pods.filter((pod) => !record(pod['metadata'])['deletionTimestamp']);
const podName = (pod: KubeObject) => String(record(pod['metadata'])['name']);

/** Every running web pod is without a token volume. */
export const webHasNoToken: CustomCheck = async (ctx) => {
  const pods = running(await ctx.list('pods', { selector: 'app=web' }));
  const expected = 'web pods without a ServiceAccount token volume';
  if (!pods.length) return { passed: false, expected, found: 'no web pods', message: 'There are no web pods; the Deployment web should keep serving, without a token.' };
  const withToken = pods.filter((pod) => tokenVolumes(pod).length);
  const found = pods.map((pod) => `${podName(pod)}: ${tokenVolumes(pod).join(', ') || 'no token'}`).join('; ');
  if (withToken.length) {
    return {
      passed: false,
      expected,
      found,
      message: `${withToken.length} of ${pods.length} web pods still have a token mounted (${withToken.map((pod) => `${podName(pod)}: ${tokenVolumes(pod).join(', ')}`).join('; ')}). A pod's volumes are fixed when it is created: change web's pod template or its ServiceAccount, and let the new pods replace the old.`,
    };
  }
  return { passed: true, expected, found, message: 'web runs without a token: breaking into it gives nobody an identity in the cluster.' };
};

/** report still gets its token: it calls the API. */
export const reportKeepsToken: CustomCheck = async (ctx) => {
  const pods = running(await ctx.list('pods', { selector: 'app=report' }));
  const expected = 'report pods with their ServiceAccount token';
  const without = pods.filter((pod) => !tokenVolumes(pod).length);
  const found = pods.map((pod) => `${podName(pod)}: ${tokenVolumes(pod).join(', ') || 'no token'}`).join('; ') || 'no report pods';
  if (!pods.length) return { passed: false, expected, found, message: 'There are no report pods; report should keep running as reporter, with its token.' };
  if (without.length) return { passed: false, expected, found, message: 'report has lost its token, and it needs it to call the API. Turn the mount off for web only (web\'s pod template, or a ServiceAccount of web\'s own), not for report\'s ServiceAccount.' };
  return { passed: true, expected, found, message: 'report keeps the token it needs.' };
};

/** The claims of a JWT, or null when the text is not one. */
function claims(token: string): Fields | null {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts[1]) return null;
  try {
    return record(JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')));
  } catch {
    return null;
  }
}

/** ~/ci-token is a token of ci that expires within 30 minutes and has not expired. */
export const shortLivedToken: CustomCheck = async (ctx) => {
  const text = await ctx.readFile('~/ci-token');
  const subject = `system:serviceaccount:${ctx.namespace}:ci`;
  const expected = `a token of ${subject} that expires within 30 minutes`;
  if (text === null) return { passed: false, expected, found: 'no ~/ci-token', message: 'There is no file ~/ci-token in your workbench yet.' };
  const jwt = claims(text.trim());
  if (!jwt) return { passed: false, expected, found: text.trim().slice(0, 40) || '(an empty file)', message: '~/ci-token does not hold a token: it should hold only what kubectl create token prints (three base64 parts joined by dots).' };
  const sub = String(jwt['sub'] ?? '');
  if (sub !== subject) return { passed: false, expected, found: sub, message: `~/ci-token is a token of ${sub || 'nobody'}; this step asks for one of ${subject}.` };
  const exp = jwt['exp'];
  const iat = jwt['iat'];
  if (typeof exp !== 'number') {
    return { passed: false, expected, found: 'a token without an expiry', message: '~/ci-token never expires: it is a legacy token from a kubernetes.io/service-account-token Secret, valid until the Secret is deleted. Ask the TokenRequest API for one instead (kubectl create token) and delete the Secret.' };
  }
  const minutes = Math.round((exp - (typeof iat === 'number' ? iat : exp)) / 60);
  if (exp * 1000 <= Date.now()) return { passed: false, expected, found: `expired at ${new Date(exp * 1000).toISOString()}`, message: '~/ci-token has expired: that is the point of it. Create a new one.' };
  if (minutes > 30) return { passed: false, expected, found: `valid for ${minutes} minutes`, message: `~/ci-token is valid for ${minutes} minutes; this step asks for 30 or less (kubectl create token --duration).` };
  return { passed: true, expected, found: `valid for ${minutes} minutes`, message: `~/ci-token is a token of ci that is useless ${minutes} minutes after it was made.` };
};

/** ~/ci-whoami.txt shows the API server taking ~/ci-token for ci (kubectl auth whoami as a table, JSON or YAML). */
export const whoamiSaved: CustomCheck = async (ctx) => {
  const text = await ctx.readFile('~/ci-whoami.txt');
  const subject = `system:serviceaccount:${ctx.namespace}:ci`;
  const expected = `kubectl auth whoami naming ${subject}`;
  if (text === null) return { passed: false, expected, found: 'no ~/ci-whoami.txt', message: 'There is no file ~/ci-whoami.txt in your workbench yet.' };
  const user = /^Username\s+(\S+)/m.exec(text)?.[1] ?? /"?username"?:\s*"?([^"\s,]+)/.exec(text)?.[1];
  if (!user) return { passed: false, expected, found: text.trim().slice(0, 80) || '(an empty file)', message: '~/ci-whoami.txt does not hold what kubectl auth whoami prints.' };
  if (user !== subject) return { passed: false, expected, found: user, message: `kubectl auth whoami says ${user}: that is who you are, not the pipeline. Ask as the kubeconfig user that holds ci's token (kubectl auth whoami --user=ci).` };
  return { passed: true, expected, found: user, message: 'The API server took the token for ci: whoever holds it is the pipeline, for as long as it lasts.' };
};
