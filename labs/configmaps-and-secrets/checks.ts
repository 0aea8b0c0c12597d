// Custom checks of the configmaps-and-secrets lab.
import type { CustomCheck } from '../../src/labs/index.ts';

type Entry = Record<string, unknown>;
const record = (value: unknown): Entry => (value && typeof value === 'object' ? (value as Entry) : {});
const list = (value: unknown): Entry[] => (Array.isArray(value) ? value.map(record) : []);

const KEYS = ['GREETING', 'LOG_LEVEL'];

/**
 * GREETING and LOG_LEVEL reach the container demo-web from the ConfigMap web-config: through
 * envFrom (without a prefix) or one configMapKeyRef a key. A literal value is the thing this step
 * exists to avoid, so it fails even when the text is right.
 */
export const settingsFromConfigMap: CustomCheck = async (ctx) => {
  const expected = 'GREETING and LOG_LEVEL taken from the ConfigMap web-config (envFrom or configMapKeyRef)';
  const deployment = await ctx.get('deployment', 'web');
  const containers = list(record(record(record(deployment?.['spec'])['template'])['spec'])['containers']);
  const container = containers.find((c) => c['name'] === 'demo-web');
  if (!container) return { passed: false, expected, found: 'no container demo-web in Deployment web', message: 'The Deployment web has no container demo-web any more; the lab set it up with one.' };
  const env = list(container['env']);
  const fromEnvFrom = list(container['envFrom']).some((from) => record(from['configMapRef'])['name'] === 'web-config' && !from['prefix']);
  const sources = KEYS.map((key) => {
    const entry = env.find((e) => e['name'] === key);
    // An env entry wins over envFrom for the same name, as in the kubelet.
    if (entry) {
      const ref = record(record(entry['valueFrom'])['configMapKeyRef']);
      if (ref['name'] === 'web-config' && ref['key'] === key) return { key, ok: true, how: 'configMapKeyRef' };
      return { key, ok: false, how: typeof entry['value'] === 'string' ? `typed in as ${JSON.stringify(entry['value'])}` : 'taken from somewhere else' };
    }
    return fromEnvFrom ? { key, ok: true, how: 'envFrom' } : { key, ok: false, how: 'not set' };
  });
  const found = sources.map((s) => `${s.key}: ${s.how}`).join('; ');
  const wrong = sources.filter((s) => !s.ok);
  if (wrong.length === 0) return { passed: true, expected, found, message: 'GREETING and LOG_LEVEL come from the ConfigMap web-config: change the ConfigMap, restart the pods, and the app follows.' };
  const typed = wrong.filter((s) => s.how.startsWith('typed in'));
  return {
    passed: false,
    expected,
    found,
    message: typed.length
      ? `${typed.map((s) => s.key).join(' and ')} ${typed.length === 1 ? 'is' : 'are'} typed into the Deployment; the value is right, but the ConfigMap web-config no longer controls it. Reference the ConfigMap (envFrom, or valueFrom.configMapKeyRef).`
      : `${wrong.map((s) => s.key).join(' and ')} ${wrong.length === 1 ? 'does' : 'do'} not come from the ConfigMap web-config yet.`,
  };
};
