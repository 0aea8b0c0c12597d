// Custom checks of the security-context-hardening lab: they read the pod template, which is what
// a node acts on (the lab cluster's kubelet does not yet enforce the user or a read-only root).
import type { CustomCheck, KubeObject } from '../../src/labs/index.ts';

type Fields = Record<string, unknown>;

const record = (value: unknown): Fields => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Fields) : {});
const list = (value: unknown): Fields[] => (Array.isArray(value) ? value.map(record) : []);
const templateSpec = (deployment: KubeObject): Fields => record(record(record(deployment['spec'])['template'])['spec']);

/** api's container has a read-only root and a writable emptyDir at /tmp. */
export const readOnlyWithScratch: CustomCheck = async (ctx) => {
  const deployment = await ctx.get('deployment', 'api');
  const expected = 'container api: readOnlyRootFilesystem true, an emptyDir mounted at /tmp';
  if (!deployment) return { passed: false, expected, found: 'no Deployment api', message: 'The Deployment api is gone; this step asks you to change it.' };
  const spec = templateSpec(deployment);
  const container = list(spec['containers']).find((c) => c['name'] === 'api');
  if (!container) return { passed: false, expected, found: 'no container api', message: 'The Deployment api has no container named api any more.' };
  const readOnly = record(container['securityContext'])['readOnlyRootFilesystem'] === true;
  const tmp = list(container['volumeMounts']).find((mount) => String(mount['mountPath']).replace(/\/+$/, '') === '/tmp');
  const volume = tmp ? list(spec['volumes']).find((v) => v['name'] === tmp['name']) : undefined;
  const found = `readOnlyRootFilesystem=${readOnly}, /tmp: ${tmp ? `volume ${String(tmp['name'])}${volume?.['emptyDir'] ? ' (emptyDir)' : ''}${tmp['readOnly'] === true ? ' read-only' : ''}` : 'not mounted'}`;
  if (!readOnly) return { passed: false, expected, found, message: 'The container api can still write to its image: set securityContext.readOnlyRootFilesystem: true on it.' };
  if (!tmp) return { passed: false, expected, found, message: 'The root file system is read-only, and /tmp with it: on a real node demo-web would fail on its first scratch file (Read-only file system). Mount an emptyDir at /tmp.' };
  if (tmp['readOnly'] === true) return { passed: false, expected, found, message: 'The volume at /tmp is mounted read-only; the scratch files need it writable.' };
  if (!volume?.['emptyDir']) return { passed: false, expected, found, message: `/tmp is the volume ${String(tmp['name'])}, which is not an emptyDir; scratch space belongs to the pod and dies with it.` };
  return { passed: true, expected, found, message: 'api cannot change its own image, and still has scratch space that dies with the pod.' };
};

/** Every container of worker, init containers included, runs as a verifiable non-root user with privilege escalation off and all capabilities dropped. */
export const workerEveryContainer: CustomCheck = async (ctx) => {
  const deployment = await ctx.get('deployment', 'worker');
  const expected = 'every container of worker (init containers too): non-root uid, allowPrivilegeEscalation false, capabilities drop ALL';
  if (!deployment) return { passed: false, expected, found: 'no Deployment worker', message: 'The Deployment worker is gone; this step asks you to change it.' };
  const spec = templateSpec(deployment);
  const pod = record(spec['securityContext']);
  const problems: string[] = [];
  for (const container of [...list(spec['initContainers']), ...list(spec['containers'])]) {
    const own = record(container['securityContext']);
    const name = String(container['name']);
    const user = own['runAsUser'] ?? pod['runAsUser'];
    if ((own['runAsNonRoot'] ?? pod['runAsNonRoot']) !== true) problems.push(`${name}: no runAsNonRoot`);
    else if (typeof user !== 'number' || user === 0) problems.push(`${name}: runAsNonRoot without a non-zero runAsUser (its image runs as root, so a real node would refuse to start it)`);
    if (own['allowPrivilegeEscalation'] !== false) problems.push(`${name}: allowPrivilegeEscalation is not false`);
    const drop = record(own['capabilities'])['drop'];
    if (!Array.isArray(drop) || !drop.includes('ALL')) problems.push(`${name}: capabilities not dropped`);
  }
  if (problems.length) return { passed: false, expected, found: problems.join('; '), message: `Not every container of worker is hardened: ${problems.join('; ')}.` };
  return { passed: true, expected, found: 'every container hardened', message: 'Every container of worker, migrate included, runs as a non-root user with no way to gain privileges.' };
};
