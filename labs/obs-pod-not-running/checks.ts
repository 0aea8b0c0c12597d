// Custom checks of the obs-pod-not-running lab.
import type { CustomCheck, KubeObject } from '../../src/labs/index.ts';

interface ContainerStatus {
  restartCount?: number;
  ready?: boolean;
  lastState?: { terminated?: { reason?: string } };
}
interface EnvVar {
  name?: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name?: string; key?: string } };
}

const statuses = (pod: KubeObject) => (pod.status as { containerStatuses?: ContainerStatus[] } | undefined)?.containerStatuses ?? [];

/** A current pricing pod is Ready and has never restarted. */
export const pricingRunsWithoutRestarts: CustomCheck = async (ctx) => {
  const pods = (await ctx.list('pods', { selector: 'app=pricing' })).filter((pod) => !pod.metadata.deletionTimestamp);
  const expected = 'a pricing pod that loaded its price list, Ready with 0 restarts';
  const found =
    pods
      .map((pod) => {
        const status = statuses(pod)[0];
        const last = status?.lastState?.terminated?.reason;
        return `${pod.metadata.name ?? ''}: ${status?.ready ? 'Ready' : 'not Ready'}, ${status?.restartCount ?? 0} restarts${last ? ` (last: ${last})` : ''}`;
      })
      .join('; ') || 'no pricing pods';
  const healthy = pods.filter((pod) => statuses(pod).every((s) => s.ready && (s.restartCount ?? 0) === 0) && statuses(pod).length > 0);
  // Running says nothing yet: the container is Running while it loads, until the kernel kills it.
  const loaded: string[] = [];
  for (const name of healthy.map((pod) => pod.metadata.name ?? '')) if ((await ctx.logs(name).catch(() => '')).includes('pricing: loaded')) loaded.push(name);
  if (healthy.length > 0 && healthy.length === pods.length && loaded.length === healthy.length)
    return { passed: true, expected, found, message: 'pricing loads its price list and keeps running.' };
  const oom = pods.some((pod) => statuses(pod).some((s) => s.lastState?.terminated?.reason === 'OOMKilled'));
  return {
    passed: false,
    expected,
    found,
    message: oom
      ? 'A pricing pod was OOMKilled again: its memory limit is still below what it needs to load the price list.'
      : 'No pricing pod has loaded its price list and kept running yet; wait for the rollout and the load (kubectl logs deployment/pricing).',
  };
};

/** orders' DB_PASSWORD comes from the Secret orders-db, key db-password, not a literal value. */
export const passwordFromTheSecret: CustomCheck = async (ctx) => {
  const deployment = await ctx.get('deployment', 'orders');
  const containers = (deployment?.spec as { template?: { spec?: { containers?: Array<{ name?: string; env?: EnvVar[] }> } } } | undefined)?.template?.spec?.containers ?? [];
  const env = containers.find((c) => c.name === 'orders')?.env ?? [];
  const password = env.find((e) => e.name === 'DB_PASSWORD');
  const expected = 'DB_PASSWORD from secretKeyRef orders-db/db-password';
  const ref = password?.valueFrom?.secretKeyRef;
  const found = !password ? 'no DB_PASSWORD' : password.value !== undefined ? 'a literal value' : ref ? `secretKeyRef ${ref.name ?? ''}/${ref.key ?? ''}` : 'another source';
  if (ref?.name === 'orders-db' && ref.key === 'db-password') return { passed: true, expected, found, message: 'DB_PASSWORD now refers to a key the Secret has.' };
  if (password?.value !== undefined)
    return { passed: false, expected, found, message: 'DB_PASSWORD is typed into the Deployment now: anyone who may read Deployments reads the password, and it no longer changes with the Secret. Refer to the Secret\'s key instead.' };
  if (!password) return { passed: false, expected, found, message: 'The orders container has no DB_PASSWORD any more; it needs one, from the Secret orders-db.' };
  return { passed: false, expected, found, message: `DB_PASSWORD refers to ${found}; the Secret orders-db holds the password under another key (kubectl describe secret orders-db).` };
};
