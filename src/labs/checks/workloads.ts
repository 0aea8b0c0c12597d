// Checks about workloads: rollout (as `kubectl rollout status` judges it), podsReady, container.
import type { KubeObject } from '../kube/index.ts';
import type { Check } from '../schema.ts';
import { parseQuantity } from './quantity.ts';
import { fail, isTerminating, list, named, numberOr, pass, quote, record, type CheckTarget, type Outcome } from './context.ts';

type CheckOf<K extends Check['kind']> = Extract<Check, { kind: K }>;

/** Null when the rollout is complete; otherwise what it is waiting for, in kubectl's words. */
function rolloutWaiting(kind: string, object: KubeObject): string | null {
  const spec = record(object.spec);
  const status = record(object.status);
  const generation = numberOr(object.metadata.generation, 0);
  const observed = numberOr(status['observedGeneration'], 0);
  if (generation > observed) return 'the controller has not seen the latest change yet';
  if (kind === 'Deployment') {
    const progressing = list(status['conditions']).map(record).find((c) => c['type'] === 'Progressing');
    if (progressing?.['reason'] === 'ProgressDeadlineExceeded') return 'it has exceeded its progress deadline';
    const desired = numberOr(spec['replicas'], 1);
    const updated = numberOr(status['updatedReplicas'], 0);
    const replicas = numberOr(status['replicas'], 0);
    const available = numberOr(status['availableReplicas'], 0);
    if (updated < desired) return `${updated} of ${desired} new replicas have been updated`;
    if (replicas > updated) return `${replicas - updated} old replicas are pending termination`;
    if (available < updated) return `${available} of ${updated} updated replicas are available`;
    return null;
  }
  if (kind === 'StatefulSet') {
    const strategy = record(spec['updateStrategy']);
    if (strategy['type'] === 'OnDelete') return null;
    const desired = numberOr(spec['replicas'], 1);
    const ready = numberOr(status['readyReplicas'], 0);
    if (ready < desired) return `${ready} of ${desired} pods are ready`;
    const partition = numberOr(record(strategy['rollingUpdate'])['partition'], 0);
    if (partition > 0) {
      const updated = numberOr(status['updatedReplicas'], 0);
      return updated < desired - partition ? `${updated} of ${desired - partition} pods have been updated` : null;
    }
    if (status['updateRevision'] !== status['currentRevision']) return `${numberOr(status['updatedReplicas'], 0)} pods are at the new revision`;
    return null;
  }
  if (kind === 'DaemonSet') {
    const desired = numberOr(status['desiredNumberScheduled'], 0);
    const updated = numberOr(status['updatedNumberScheduled'], 0);
    const available = numberOr(status['numberAvailable'], 0);
    if (updated < desired) return `${updated} of ${desired} updated pods have been scheduled`;
    if (available < desired) return `${available} of ${desired} updated pods are available`;
    return null;
  }
  return `kubectl cannot follow the rollout of a ${kind}`;
}

export async function rollout(check: CheckOf<'rollout'>, target: CheckTarget): Promise<Outcome> {
  const resource = await target.client.resolve(check.resource);
  const what = named(resource, check.name);
  const expected = `the rollout of ${what} is complete`;
  if (!['Deployment', 'StatefulSet', 'DaemonSet'].includes(resource.kind)) {
    return fail(expected, `a ${resource.kind}`, `A rollout check needs a Deployment, StatefulSet or DaemonSet, not a ${resource.kind}.`);
  }
  const object = await target.client.get(resource, target.namespace, check.name);
  if (!object) return fail(expected, `no ${resource.kind} named ${check.name}`, `There is no ${what} in your namespace yet.`);
  const waiting = rolloutWaiting(resource.kind, object);
  if (waiting === null) return pass(expected, 'rollout complete', `The rollout of ${what} is complete.`);
  return fail(expected, waiting, `The rollout of ${what} is not complete: ${waiting}.`);
}

function podReady(pod: KubeObject): boolean {
  return list(record(pod.status)['conditions']).map(record).some((c) => c['type'] === 'Ready' && c['status'] === 'True');
}

/** Why a pod is not ready, as `kubectl get pods` shows it in STATUS: CrashLoopBackOff, ImagePullBackOff, Pending… */
function podState(pod: KubeObject): string {
  const status = record(pod.status);
  for (const container of list(status['containerStatuses']).map(record)) {
    const state = record(container['state']);
    const waiting = record(state['waiting']);
    if (typeof waiting['reason'] === 'string') return waiting['reason'];
    const terminated = record(state['terminated']);
    if (typeof terminated['reason'] === 'string') return terminated['reason'];
    if (container['ready'] === false && state['running']) return 'Running but not ready';
  }
  return typeof status['phase'] === 'string' ? status['phase'] : 'Pending';
}

export async function podsReady(check: CheckOf<'podsReady'>, target: CheckTarget): Promise<Outcome> {
  const resource = await target.client.resolve('pods');
  const pods = (await target.client.list(resource, target.namespace, { labelSelector: check.selector })).filter((pod) => !isTerminating(pod));
  const ready = pods.filter(podReady);
  const notReady = pods.filter((pod) => !podReady(pod));
  const expected = check.count === undefined ? `all pods with ${check.selector} Ready (at least one)` : `at least ${check.count} Ready pods with ${check.selector}`;
  const found = `${ready.length} of ${pods.length} Ready${notReady.length ? `; ${notReady.slice(0, 3).map((pod) => `${pod.metadata.name} ${podState(pod)}`).join(', ')}` : ''}`;
  if (pods.length === 0) return fail(expected, 'no pods', `There are no pods with ${check.selector}.`);
  const why = notReady.length ? ` (${notReady.slice(0, 3).map((pod) => `${pod.metadata.name}: ${podState(pod)}`).join('; ')})` : '';
  if (check.count === undefined) {
    if (notReady.length === 0) return pass(expected, found, `All ${pods.length} pods with ${check.selector} are Ready.`);
    return fail(expected, found, `${ready.length} of ${pods.length} pods with ${check.selector} are Ready${why}; this step asks for all of them.`);
  }
  if (ready.length >= check.count) return pass(expected, found, `${ready.length} pods with ${check.selector} are Ready.`);
  return fail(expected, found, `${ready.length} of ${pods.length} pods with ${check.selector} are Ready${why}; this step asks for at least ${check.count} Ready pods.`);
}

/** The pod spec inside a workload, as its pods will get it. */
function podSpecOf(kind: string, object: KubeObject): Record<string, unknown> | null {
  const spec = record(object.spec);
  if (kind === 'Pod') return spec;
  if (kind === 'CronJob') return record(record(record(record(spec['jobTemplate'])['spec'])['template'])['spec']);
  if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job', 'ReplicationController'].includes(kind)) return record(record(spec['template'])['spec']);
  return null;
}

/** The environment a container gets: its env entries, then envFrom sources, with their values where readable. */
interface EnvEntry {
  value?: string;
  /** From a Secret: its value is never repeated in a result. */
  secret: boolean;
  source: Record<string, unknown>;
}

async function environment(target: CheckTarget, container: Record<string, unknown>): Promise<Map<string, EnvEntry>> {
  const result = new Map<string, EnvEntry>();
  const readKeys = async (kind: 'configmaps' | 'secrets', name: string): Promise<Record<string, string>> => {
    const resource = await target.client.resolve(kind);
    const object = await target.client.get(resource, target.namespace, name);
    const data = record(object?.['data']);
    const values: Record<string, string> = {};
    for (const [key, value] of Object.entries(data)) {
      if (typeof value === 'string') values[key] = kind === 'secrets' ? Buffer.from(value, 'base64').toString('utf8') : value;
    }
    if (kind === 'secrets') for (const [key, value] of Object.entries(record(object?.['stringData']))) if (typeof value === 'string') values[key] = value;
    return values;
  };
  for (const from of list(container['envFrom']).map(record)) {
    const prefix = typeof from['prefix'] === 'string' ? from['prefix'] : '';
    const configMap = record(from['configMapRef']);
    const secret = record(from['secretRef']);
    const values = typeof configMap['name'] === 'string' ? await readKeys('configmaps', configMap['name']) : typeof secret['name'] === 'string' ? await readKeys('secrets', secret['name']) : {};
    for (const [key, value] of Object.entries(values)) result.set(prefix + key, { value, secret: typeof secret['name'] === 'string', source: from });
  }
  for (const entry of list(container['env']).map(record)) {
    const name = String(entry['name']);
    if (typeof entry['value'] === 'string') {
      result.set(name, { value: entry['value'], secret: false, source: entry });
      continue;
    }
    const valueFrom = record(entry['valueFrom']);
    const configMapRef = record(valueFrom['configMapKeyRef']);
    const secretRef = record(valueFrom['secretKeyRef']);
    let value: string | undefined;
    if (typeof configMapRef['name'] === 'string') value = (await readKeys('configmaps', configMapRef['name']))[String(configMapRef['key'])];
    else if (typeof secretRef['name'] === 'string') value = (await readKeys('secrets', secretRef['name']))[String(secretRef['key'])];
    const secret = typeof secretRef['name'] === 'string';
    result.set(name, value === undefined ? { secret, source: entry } : { value, secret, source: entry });
  }
  return result;
}

/** Whether an image reference is the one asked for; "nginx" accepts any tag of nginx. */
function sameImage(found: string, wanted: string): boolean {
  if (found === wanted) return true;
  const strip = (image: string) => image.replace(/^docker\.io\/(library\/)?/, '');
  if (strip(found) === strip(wanted)) return true;
  const hasTag = /:[^/]+$|@/.test(wanted);
  return !hasTag && strip(found).replace(/[:@].*$/, '') === strip(wanted);
}

function sameQuantity(found: unknown, wanted: string): boolean {
  const a = parseQuantity(typeof found === 'number' ? found : String(found ?? ''));
  const b = parseQuantity(wanted);
  return a !== undefined && b !== undefined && Math.abs(a - b) <= Math.abs(b) * 1e-9;
}

export async function container(check: CheckOf<'container'>, target: CheckTarget): Promise<Outcome> {
  const resource = await target.client.resolve(check.resource);
  const what = named(resource, check.name);
  const object = await target.client.get(resource, target.namespace, check.name);
  const wants: string[] = [];
  if (check.image) wants.push(`image ${check.image}`);
  if (check.env) wants.push(...Object.entries(check.env).map(([name, value]) => `env ${name}=${typeof value === 'string' ? value : JSON.stringify(value)}`));
  if (check.envFrom) wants.push(...check.envFrom.map((from) => ('configMapRef' in from ? `envFrom ConfigMap ${from.configMapRef}` : `envFrom Secret ${from.secretRef}`)));
  if (check.volumeMount) wants.push(`a volume mounted at ${check.volumeMount.mountPath}`);
  if (check.probe) wants.push(`a ${check.probe.type} probe`);
  if (check.resources) wants.push('resources as asked');
  const expected = wants.join(', ');
  if (!object) return fail(expected, `no ${resource.kind} named ${check.name}`, `There is no ${what} in your namespace yet.`);
  const podSpec = podSpecOf(resource.kind, object);
  if (!podSpec) return fail(expected, `a ${resource.kind}`, `A container check needs a Pod or a workload with a pod template, not a ${resource.kind}.`);
  const containers = list(podSpec['containers']).map(record);
  const chosen = check.container ? containers.find((c) => c['name'] === check.container) : containers[0];
  if (!chosen) {
    const names = containers.map((c) => String(c['name'])).join(', ') || 'none';
    return fail(expected, `containers: ${names}`, `${what} has no container named ${check.container}; its containers are ${names}.`);
  }
  const where = containers.length > 1 || check.container ? `Container ${String(chosen['name'])} of ${what}` : what;
  const problems: string[] = [];
  const facts: string[] = [];

  if (check.image) {
    const image = String(chosen['image'] ?? '');
    facts.push(`image ${image}`);
    if (!sameImage(image, check.image)) problems.push(`${where} runs ${image}; this step asks for ${check.image}`);
  }

  if (check.env) {
    const env = await environment(target, chosen);
    for (const [name, wanted] of Object.entries(check.env)) {
      const entry = env.get(name);
      if (!entry) {
        facts.push(`no ${name}`);
        problems.push(`${where} has no environment variable ${name}`);
        continue;
      }
      if (typeof wanted === 'string') {
        const shown = entry.value === undefined ? 'a value that cannot be read' : entry.secret ? 'a different value from a Secret' : quote(entry.value);
        facts.push(`${name}=${entry.value === undefined ? '(unresolved)' : entry.secret ? '(from a Secret)' : entry.value}`);
        if (entry.value !== wanted) problems.push(`${where} sets ${name} to ${shown}; this step asks for ${entry.secret ? 'another value' : quote(wanted)}`);
        continue;
      }
      const valueFrom = record(entry.source['valueFrom']);
      const [refKind, ref] = 'secretKeyRef' in wanted ? (['secretKeyRef', wanted.secretKeyRef] as const) : 'configMapKeyRef' in wanted ? (['configMapKeyRef', wanted.configMapKeyRef] as const) : (['fieldRef', wanted.fieldRef] as const);
      const actual = record(valueFrom[refKind]);
      facts.push(`${name} from ${JSON.stringify(valueFrom)}`);
      const matches = Object.entries(ref).every(([key, value]) => actual[key] === value);
      if (!matches) {
        const source = refKind === 'secretKeyRef' ? 'the Secret' : refKind === 'configMapKeyRef' ? 'the ConfigMap' : 'the field';
        problems.push(`${where} does not take ${name} from ${source} ${Object.values(ref).join(' key ')}`);
      }
    }
  }

  if (check.envFrom) {
    const sources = list(chosen['envFrom']).map(record);
    for (const wanted of check.envFrom) {
      const [key, name, word] = 'configMapRef' in wanted ? (['configMapRef', wanted.configMapRef, 'ConfigMap'] as const) : (['secretRef', wanted.secretRef, 'Secret'] as const);
      const present = sources.some((source) => record(source[key])['name'] === name);
      facts.push(`envFrom ${word} ${name}: ${present ? 'yes' : 'no'}`);
      if (!present) problems.push(`${where} does not load its environment from the ${word} ${name} (envFrom)`);
    }
  }

  if (check.volumeMount) {
    const wanted = check.volumeMount;
    const normalise = (path: string) => path.replace(/\/+$/, '') || '/';
    const mount = list(chosen['volumeMounts']).map(record).find((m) => normalise(String(m['mountPath'])) === normalise(wanted.mountPath));
    if (!mount) {
      const paths = list(chosen['volumeMounts']).map((m) => String(record(m)['mountPath'])).filter((p) => !p.startsWith('/var/run/secrets'));
      facts.push(`mounts: ${paths.join(', ') || 'none'}`);
      problems.push(`${where} mounts nothing at ${wanted.mountPath}${paths.length ? ` (it mounts ${paths.join(', ')})` : ''}`);
    } else {
      const volume = list(podSpec['volumes']).map(record).find((v) => v['name'] === mount['name']);
      const configMapName = record(volume?.['configMap'])['name'];
      const secretName = record(volume?.['secret'])['secretName'];
      const projected = list(record(volume?.['projected'])['sources']).map(record);
      const fromConfigMap = (name: string) => configMapName === name || projected.some((s) => record(s['configMap'])['name'] === name);
      const fromSecret = (name: string) => secretName === name || projected.some((s) => record(s['secret'])['name'] === name);
      facts.push(`volume ${String(mount['name'])} at ${String(mount['mountPath'])}`);
      if (wanted.volume && mount['name'] !== wanted.volume) problems.push(`${where} mounts the volume ${String(mount['name'])} at ${wanted.mountPath}; this step asks for the volume ${wanted.volume}`);
      if (wanted.configMap && !fromConfigMap(wanted.configMap)) problems.push(`the volume at ${wanted.mountPath} does not come from the ConfigMap ${wanted.configMap}`);
      if (wanted.secret && !fromSecret(wanted.secret)) problems.push(`the volume at ${wanted.mountPath} does not come from the Secret ${wanted.secret}`);
      if (wanted.readOnly !== undefined && (mount['readOnly'] === true) !== wanted.readOnly) problems.push(`the mount at ${wanted.mountPath} is ${mount['readOnly'] === true ? '' : 'not '}read-only; this step asks for it ${wanted.readOnly ? '' : 'not '}to be`);
    }
  }

  if (check.probe) {
    const wanted = check.probe;
    const probe = record(chosen[`${wanted.type}Probe`]);
    if (Object.keys(probe).length === 0) {
      facts.push(`no ${wanted.type} probe`);
      problems.push(`${where} has no ${wanted.type} probe`);
    } else {
      const handler = (['httpGet', 'tcpSocket', 'exec', 'grpc'] as const).find((key) => probe[key] !== undefined);
      const details = record(handler ? probe[handler] : undefined);
      facts.push(`${wanted.type} probe ${handler ?? 'without handler'} ${JSON.stringify(details)}`);
      if (wanted.handler && handler !== wanted.handler) problems.push(`the ${wanted.type} probe of ${where} uses ${handler ?? 'no handler'}; this step asks for ${wanted.handler}`);
      if (wanted.path !== undefined && details['path'] !== wanted.path) problems.push(`the ${wanted.type} probe of ${where} checks the path ${quote(details['path'] ?? '(none)')}; this step asks for ${quote(wanted.path)}`);
      if (wanted.port !== undefined && String(details['port']) !== String(wanted.port)) problems.push(`the ${wanted.type} probe of ${where} uses port ${String(details['port'] ?? '(none)')}; this step asks for ${wanted.port}`);
    }
  }

  if (check.resources) {
    const actual = record(chosen['resources']);
    for (const section of ['requests', 'limits'] as const) {
      const wanted = check.resources[section];
      if (!wanted) continue;
      const have = record(actual[section]);
      for (const name of ['cpu', 'memory'] as const) {
        const amount = wanted[name];
        if (amount === undefined) continue;
        facts.push(`${section}.${name}=${String(have[name] ?? 'unset')}`);
        if (have[name] === undefined) problems.push(`${where} sets no ${name} ${section === 'requests' ? 'request' : 'limit'}; this step asks for ${amount}`);
        else if (!sameQuantity(have[name], amount)) problems.push(`${where} ${section === 'requests' ? 'requests' : 'is limited to'} ${String(have[name])} ${name}; this step asks for ${amount}`);
      }
    }
  }

  const found = facts.join(', ');
  if (problems.length === 0) return pass(expected, found, `${where} has ${expected}.`);
  const sentence = problems.join('; ');
  return fail(expected, found, `${sentence.charAt(0).toUpperCase()}${sentence.slice(1)}.`);
}
