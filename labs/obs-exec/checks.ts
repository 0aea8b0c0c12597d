// Custom checks of the obs-exec lab.
import type { CustomCheck } from '../../src/labs/index.ts';

interface PodSpec {
  containers?: Array<{ name?: string; volumeMounts?: Array<{ name?: string; mountPath?: string; subPath?: string }>; env?: Array<{ name?: string; value?: string }>; envFrom?: Array<{ configMapRef?: { name?: string } }> }>;
  volumes?: Array<{ name?: string; configMap?: { name?: string } }>;
}
const template = (object: { spec?: unknown } | null): PodSpec => (object?.spec as { template?: { spec?: PodSpec } } | undefined)?.template?.spec ?? {};

/** billing's template mounts the ConfigMap billing-rates so that /config/rates.json is its file. */
export const ratesMountedAtConfig: CustomCheck = async (ctx) => {
  const spec = template(await ctx.get('deployment', 'billing'));
  const volumes = new Map((spec.volumes ?? []).filter((v) => v.configMap?.name === 'billing-rates').map((v) => [v.name ?? '', v]));
  const mounts = (spec.containers?.find((c) => c.name === 'billing')?.volumeMounts ?? []).filter((m) => volumes.has(m.name ?? ''));
  const expected = 'billing-rates mounted at /config (or its rates.json at /config/rates.json)';
  const found = mounts.map((m) => `${m.mountPath ?? ''}${m.subPath ? ` (subPath ${m.subPath})` : ''}`).join(', ') || 'billing-rates not mounted';
  const right = mounts.some((m) => (m.mountPath?.replace(/\/+$/, '') === '/config' && !m.subPath) || (m.mountPath === '/config/rates.json' && m.subPath === 'rates.json'));
  if (right) return { passed: true, expected, found, message: 'The Deployment mounts the rates where billing reads them: every new pod has them.' };
  return {
    passed: false,
    expected,
    found,
    message: mounts.length
      ? `The ConfigMap billing-rates is mounted at ${found}; billing reads /config/rates.json. Change the Deployment's mount, not the container's files.`
      : 'The Deployment billing no longer mounts the ConfigMap billing-rates; billing needs it at /config.',
  };
};

/** Every current notifier pod logs at debug level. */
export const notifiersLogDebug: CustomCheck = async (ctx) => {
  const pods = (await ctx.list('pods', { selector: 'app=notifier' })).filter((pod) => !pod.metadata.deletionTimestamp);
  const levels: string[] = [];
  for (const name of pods.map((pod) => pod.metadata.name ?? '')) {
    const log = await ctx.logs(name).catch(() => '');
    levels.push(`${name}: ${/starting with log level (\S+)/.exec(log)?.[1] ?? 'not started'}`);
  }
  const expected = 'every notifier pod started with log level debug';
  const found = levels.join(', ') || 'no notifier pods';
  const stale = levels.filter((line) => !line.endsWith(': debug'));
  if (pods.length >= 2 && !stale.length) return { passed: true, expected, found, message: 'Every notifier pod started after the change and logs at debug level.' };
  return {
    passed: false,
    expected,
    found,
    message: pods.length < 2 ? 'notifier should run 2 pods.' : `${stale.map((line) => line.split(':')[0]).join(', ')} still run${stale.length === 1 ? 's' : ''} with the environment it started with. New containers read the ConfigMap's current value.`,
  };
};

/** notifier still takes LOG_LEVEL from its ConfigMap, not a value typed into the Deployment. */
export const notifierUsesTheConfigMap: CustomCheck = async (ctx) => {
  const container = template(await ctx.get('deployment', 'notifier')).containers?.find((c) => c.name === 'notifier');
  const typed = container?.env?.find((e) => e.name === 'LOG_LEVEL');
  const fromMap = container?.envFrom?.some((e) => e.configMapRef?.name === 'notifier-config') ?? false;
  const expected = 'LOG_LEVEL from the ConfigMap notifier-config';
  const found = typed ? `LOG_LEVEL=${typed.value ?? '(from elsewhere)'} in the Deployment` : fromMap ? 'envFrom notifier-config' : 'no notifier-config';
  if (fromMap && !typed) return { passed: true, expected, found, message: 'notifier still takes its settings from its ConfigMap.' };
  return {
    passed: false,
    expected,
    found,
    message: 'The setting belongs in the ConfigMap notifier-config, where the team changed it; a value typed into the Deployment hides the ConfigMap\'s from now on. Keep the Deployment as it was and start new containers instead.',
  };
};

interface EphemeralContainer {
  name?: string;
  image?: string;
  targetContainerName?: string;
}

/** A current billing pod has an ephemeral debug container that targets the container billing. */
export const debugContainerTargetsBilling: CustomCheck = async (ctx) => {
  const pods = (await ctx.list('pods', { selector: 'app=billing' })).filter((pod) => !pod.metadata.deletionTimestamp);
  const debuggers = pods.flatMap((pod) => ((pod.spec as { ephemeralContainers?: EphemeralContainer[] } | undefined)?.ephemeralContainers ?? []).map((c) => ({ pod: pod.metadata.name ?? '', ...c })));
  const expected = 'an ephemeral container in a billing pod with targetContainerName billing';
  const found = debuggers.map((c) => `${c.pod}: ${c.name ?? ''} (${c.image ?? ''}, target ${c.targetContainerName ?? 'none'})`).join('; ') || 'no ephemeral containers in the billing pods';
  if (debuggers.some((c) => c.targetContainerName === 'billing'))
    return { passed: true, expected, found, message: 'Your debug container shares the process namespace of billing: its ps shows billing\'s processes.' };
  if (debuggers.length)
    return { passed: false, expected, found, message: 'Your debug container does not target the container billing (--target=billing): it runs beside billing without seeing its processes.' };
  return { passed: false, expected, found, message: 'No billing pod has a debug container yet. kubectl debug adds one to a running pod; if it was refused, read why: the namespace enforces the restricted level.' };
};
