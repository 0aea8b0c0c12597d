// Custom checks of the scale-and-rollback lab.
import type { CustomCheck, KubeObject } from '../../src/labs/index.ts';

const image = (rs: KubeObject) => String(((rs.spec as { template?: { spec?: { containers?: Array<{ image?: string }> } } } | undefined)?.template?.spec?.containers ?? [])[0]?.image ?? '');
const replicas = (rs: KubeObject) => Number((rs.spec as { replicas?: number } | undefined)?.replicas ?? 0);
const revision = (object: KubeObject | null) => object?.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? '';

/**
 * A rollback reuses the ReplicaSet that ran 1.1 before (it becomes the newest revision) and scales
 * the 2.0 ReplicaSet to zero; nothing new is built.
 */
export const backOnTheOldReplicaSet: CustomCheck = async (ctx) => {
  const deployment = await ctx.get('deployment', 'web');
  const sets = await ctx.list('replicasets', { selector: 'app=web' });
  const expected = 'the 1.1 ReplicaSet is the current revision and the 2.0 ReplicaSet has 0 replicas';
  const found = sets.map((rs) => `${rs.metadata.name} (${image(rs).split(':').pop()}, revision ${revision(rs)}, ${replicas(rs)} replicas)`).join('; ');
  const current = sets.find((rs) => revision(rs) === revision(deployment));
  const broken = sets.filter((rs) => image(rs).endsWith(':2.0') && replicas(rs) > 0);
  const elevens = sets.filter((rs) => image(rs).endsWith(':1.1'));
  if (!current || !image(current).endsWith(':1.1')) return { passed: false, expected, found, message: 'The current revision of web does not run 1.1 yet.' };
  if (elevens.length > 1) return { passed: false, expected, found, message: 'There are two ReplicaSets running 1.1; a rollback reuses the old one.' };
  if (broken.length) return { passed: false, expected, found, message: `The 2.0 ReplicaSet ${broken.map((rs) => rs.metadata.name).join(', ')} still wants pods; wait for the rollback to finish.` };
  return { passed: true, expected, found, message: `web is back on ${current.metadata.name}, the ReplicaSet that ran 1.1 before, now revision ${revision(current)}; the 2.0 one is kept at 0 replicas for the history.` };
};
