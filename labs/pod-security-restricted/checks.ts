// Custom checks of the pod-security-restricted lab.
import type { CustomCheck, KubeObject } from '../../src/labs/index.ts';

type Fields = Record<string, unknown>;

const record = (value: unknown): Fields => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Fields) : {});
const list = (value: unknown): Fields[] => (Array.isArray(value) ? value.map(record) : []);

/** The pod spec of a Pod or of a workload's template. */
function podSpec(object: KubeObject): Fields {
  const spec = record(object['spec']);
  return object['kind'] === 'Pod' ? spec : record(record(spec['template'])['spec']);
}

/** The user each container runs as, as the kubelet decides it: the container's runAsUser, else the pod's, else the image's. */
function containerUsers(spec: Fields): Array<{ name: string; runAsUser: number | undefined; runAsNonRoot: boolean }> {
  const pod = record(spec['securityContext']);
  return [...list(spec['initContainers']), ...list(spec['containers'])].map((container) => {
    const own = record(container['securityContext']);
    const user = own['runAsUser'] ?? pod['runAsUser'];
    return {
      name: String(container['name'] ?? ''),
      runAsUser: typeof user === 'number' ? user : undefined,
      runAsNonRoot: (own['runAsNonRoot'] ?? pod['runAsNonRoot']) === true,
    };
  });
}

/** ~/refusal.txt holds a Pod Security refusal of shop's pods at the restricted level. */
export const refusalSaved: CustomCheck = async (ctx) => {
  const text = await ctx.readFile('~/refusal.txt');
  const expected = 'a refusal that says violates PodSecurity "restricted:latest"';
  if (text === null) return { passed: false, expected, found: 'no ~/refusal.txt', message: 'There is no file ~/refusal.txt in your workbench yet.' };
  const found = text.trim().slice(0, 200) || '(an empty file)';
  if (!text.includes('violates PodSecurity "restricted:')) {
    return { passed: false, expected, found, message: '~/refusal.txt does not hold a Pod Security refusal; copy the whole message of one FailedCreate event of shop\'s ReplicaSet (it contains violates PodSecurity "restricted:latest").' };
  }
  return { passed: true, expected, found, message: 'That is the refusal: the level (restricted), its version (latest), and each field the pod must change.' };
};

/** shop's containers run as an explicit non-zero uid, so that a node can verify runAsNonRoot against an image that would run as root. */
export const nonRootUser: CustomCheck = async (ctx) => {
  const deployment = await ctx.get('deployment', 'shop');
  const expected = 'every container of shop with runAsNonRoot: true and a non-zero runAsUser';
  if (!deployment) return { passed: false, expected, found: 'no Deployment shop', message: 'The Deployment shop is gone; this step asks you to change it, not to delete it (kubectl apply -f the setup again if you deleted it).' };
  const users = containerUsers(podSpec(deployment));
  const found = users.map((u) => `${u.name}: runAsNonRoot=${u.runAsNonRoot}, runAsUser=${u.runAsUser ?? 'unset'}`).join('; ');
  const withoutNonRoot = users.filter((u) => !u.runAsNonRoot).map((u) => u.name);
  if (withoutNonRoot.length) return { passed: false, expected, found, message: `Container ${withoutNonRoot.join(', ')} of shop does not say runAsNonRoot: true (on the pod's or its own securityContext); the restricted level refuses it.` };
  const unverifiable = users.filter((u) => u.runAsUser === undefined).map((u) => u.name);
  if (unverifiable.length) {
    return {
      passed: false,
      expected,
      found,
      message: `Container ${unverifiable.join(', ')} of shop says runAsNonRoot but no runAsUser, and formicary/demo-web's image has no USER: it would run as root, so a real node refuses to start it (CreateContainerConfigError: container has runAsNonRoot and image will run as root). Set runAsUser to a non-zero uid such as 10001.`,
    };
  }
  return { passed: true, expected, found, message: 'Every container of shop runs as a non-root uid that the kubelet can verify.' };
};

/** The toolbox asks for nothing of the node's: no host namespaces, privileges, added capabilities or hostPath volumes. */
export const toolboxOwnsNothing: CustomCheck = async (ctx) => {
  const pod = await ctx.get('pod', 'toolbox');
  const expected = 'no hostNetwork, hostPID, hostIPC, privileged, added capabilities or hostPath volumes';
  if (!pod) return { passed: false, expected, found: 'no pod toolbox', message: 'There is no pod toolbox yet.' };
  const spec = podSpec(pod);
  const problems: string[] = [];
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC']) if (spec[field] === true) problems.push(field);
  for (const container of [...list(spec['initContainers']), ...list(spec['containers'])]) {
    const context = record(container['securityContext']);
    if (context['privileged'] === true) problems.push(`privileged (container ${String(container['name'])})`);
    const added = record(context['capabilities'])['add'];
    if (Array.isArray(added) && added.length) problems.push(`capabilities.add ${added.join(',')} (container ${String(container['name'])})`);
  }
  for (const volume of list(spec['volumes'])) if (volume['hostPath']) problems.push(`hostPath volume ${String(volume['name'])}`);
  if (problems.length) return { passed: false, expected, found: problems.join(', '), message: `The toolbox still asks for the node's ${problems.join(', ')}.` };
  const root = containerUsers(spec).filter((u) => u.runAsUser === undefined || u.runAsUser === 0).map((u) => u.name);
  if (root.length) {
    return { passed: false, expected: 'a non-zero runAsUser', found: `container ${root.join(', ')} without one`, message: `busybox's image runs as root: container ${root.join(', ')} of toolbox needs a non-zero runAsUser, or a real node refuses to start it under runAsNonRoot.` };
  }
  return { passed: true, expected, found: 'none of them', message: 'The toolbox asks for nothing of the node: a compromised shell in it is one more pod, not the node.' };
};
