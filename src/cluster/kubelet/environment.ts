// A container's environment as the kubelet builds it (kubelet_pods.go makeEnvironmentVariables):
// envFrom, then env with $(VAR) expansion and valueFrom (ConfigMap and Secret keys, the downward
// API, resource fields), then the service links. A missing ConfigMap, Secret or key fails the
// container with CreateContainerConfigError and the upstream message.
import { tryParseQuantity } from '../registry/index.ts';
import type { KubeObject } from '../types.ts';
import type { ClusterView } from './cluster-view.ts';
import { type Json, obj, objects, specOf, statusOf, str } from '../json.ts';

export class ContainerConfigError extends Error {}

export interface EnvironmentResult {
  env: Array<[string, string]>;
  /** EnvFrom keys skipped because they are not valid variable names (the InvalidEnvironmentVariableNames event). */
  skipped: Array<{ kind: 'configMap' | 'secret'; namespace: string; name: string; keys: string[] }>;
}

// RelaxedEnvironmentVariableValidation (on by default since 1.32): any printable ASCII but '='.
const envVarName = /^[ -<>-~]+$/;

function dataOf(object: KubeObject, kind: 'configMap' | 'secret'): Map<string, string> {
  const data = new Map<string, string>();
  if (kind === 'configMap') {
    for (const [key, value] of Object.entries(obj(object['data']))) data.set(key, String(value));
    for (const [key, value] of Object.entries(obj(object['binaryData']))) data.set(key, Buffer.from(String(value), 'base64').toString('utf8'));
  } else {
    for (const [key, value] of Object.entries(obj(object['data']))) data.set(key, Buffer.from(String(value), 'base64').toString('utf8'));
    for (const [key, value] of Object.entries(obj(object['stringData']))) data.set(key, String(value));
  }
  return data;
}

function lookupSource(view: ClusterView, kind: 'configMap' | 'secret', namespace: string, name: string): KubeObject | undefined {
  return view.get(kind === 'configMap' ? 'configmaps' : 'secrets', namespace, name);
}

function notFound(kind: 'configMap' | 'secret', name: string): ContainerConfigError {
  return new ContainerConfigError(`${kind === 'configMap' ? 'configmap' : 'secret'} "${name}" not found`);
}

/** $(VAR) expansion as in third_party/forked/golang/expansion: unknown references stay as written, $$ escapes. */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (ch !== '$' || i + 1 >= input.length) {
      out += ch;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close < 0) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, close);
      const value = lookup(name);
      out += value ?? `$(${name})`;
      i = close;
    } else {
      out += ch;
    }
  }
  return out;
}

/** metadata.labels['app'], status.podIP, … (the fieldRef paths the downward API allows). */
export function podField(pod: KubeObject, path: string): string | undefined {
  const labelKey = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (labelKey) {
    const map = labelKey[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations;
    return map?.[labelKey[2] ?? ''] ?? '';
  }
  const spec = specOf(pod);
  const status = statusOf(pod);
  switch (path) {
    case 'metadata.name':
      return pod.metadata.name ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'metadata.labels':
      return formatMap(pod.metadata.labels);
    case 'metadata.annotations':
      return formatMap(pod.metadata.annotations);
    case 'spec.nodeName':
      return str(spec['nodeName']) ?? '';
    case 'spec.serviceAccountName':
      return str(spec['serviceAccountName']) ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return str(status['hostIP']) ?? '';
    case 'status.podIP':
    case 'status.podIPs':
      return str(status['podIP']) ?? '';
    default:
      return undefined;
  }
}

/** Labels and annotations as the downward API writes them: key="value", sorted, one a line. */
export function formatMap(map: Record<string, string> | undefined): string {
  return Object.keys(map ?? {})
    .sort()
    .map((key) => `${key}=${JSON.stringify(map?.[key] ?? '')}`)
    .join('\n');
}

export interface NodeAllocatable {
  cpuMillis: number;
  memoryBytes: number;
}

/** limits.cpu, requests.memory, … of a container with a divisor (resourceFieldRef); unset limits fall back to the node's allocatable. */
export function resourceField(pod: KubeObject, containerName: string, ref: Json, allocatable: NodeAllocatable): string {
  const container = objects(specOf(pod)['containers']).concat(objects(specOf(pod)['initContainers'])).find((c) => c['name'] === containerName);
  const resources = obj(container?.['resources']);
  const resource = str(ref['resource']) ?? '';
  const [kind, name] = resource.split('.') as [string, string];
  const quantity = tryParseQuantity(obj(resources[kind])[name]);
  const divisor = tryParseQuantity(ref['divisor'] ?? '1') ?? tryParseQuantity('1');
  const divisorNanos = divisor && !divisor.isZero() ? divisor.nanos : 1_000_000_000n;
  let nanos: bigint;
  if (quantity) nanos = quantity.nanos;
  else if (kind === 'limits') nanos = name === 'cpu' ? BigInt(allocatable.cpuMillis) * 1_000_000n : BigInt(allocatable.memoryBytes) * 1_000_000_000n;
  else nanos = 0n;
  // ceil(value / divisor), as ExtractContainerResourceValue rounds
  const value = (nanos + divisorNanos - 1n) / divisorNanos;
  return String(value);
}

function serviceLinks(view: ClusterView, namespace: string, enableServiceLinks: boolean): Array<[string, string]> {
  const services: KubeObject[] = [];
  const master = view.get('services', 'default', 'kubernetes');
  if (master) services.push(master);
  if (enableServiceLinks) for (const service of view.list('services', namespace)) if (!(namespace === 'default' && service.metadata.name === 'kubernetes')) services.push(service);
  const env: Array<[string, string]> = [];
  for (const service of services) {
    const spec = specOf(service);
    const ip = str(spec['clusterIP']);
    if (!ip || ip === 'None') continue;
    const prefix = (service.metadata.name ?? '').toUpperCase().replace(/-/g, '_');
    const ports = objects(spec['ports']);
    const first = ports[0];
    if (!first) continue;
    env.push([`${prefix}_SERVICE_HOST`, ip], [`${prefix}_SERVICE_PORT`, String(first['port'])]);
    for (const port of ports) if (str(port['name'])) env.push([`${prefix}_SERVICE_PORT_${String(port['name']).toUpperCase().replace(/-/g, '_')}`, String(port['port'])]);
    const protocol = (str(first['protocol']) ?? 'TCP').toLowerCase();
    env.push([`${prefix}_PORT`, `${protocol}://${ip}:${String(first['port'])}`]);
    for (const port of ports) {
      const proto = (str(port['protocol']) ?? 'TCP').toLowerCase();
      const base = `${prefix}_PORT_${String(port['port'])}_${proto.toUpperCase()}`;
      env.push([base, `${proto}://${ip}:${String(port['port'])}`], [`${base}_PROTO`, proto], [`${base}_PORT`, String(port['port'])], [`${base}_ADDR`, ip]);
    }
  }
  return env;
}

/** The container's variables in order; throws ContainerConfigError for what upstream reports as CreateContainerConfigError. */
export function containerEnvironment(view: ClusterView, pod: KubeObject, container: Json, allocatable: NodeAllocatable): EnvironmentResult {
  const namespace = pod.metadata.namespace ?? 'default';
  const spec = specOf(pod);
  const values = new Map<string, string>();
  const skipped: EnvironmentResult['skipped'] = [];

  for (const source of objects(container['envFrom'])) {
    const prefix = str(source['prefix']) ?? '';
    const kind = source['configMapRef'] ? 'configMap' : source['secretRef'] ? 'secret' : undefined;
    if (!kind) continue;
    const ref = obj(source[kind === 'configMap' ? 'configMapRef' : 'secretRef']);
    const name = str(ref['name']) ?? '';
    const object = lookupSource(view, kind, namespace, name);
    if (!object) {
      if (ref['optional'] === true) continue;
      throw notFound(kind, name);
    }
    const invalid: string[] = [];
    for (const [key, value] of dataOf(object, kind)) {
      const variable = prefix + key;
      if (!envVarName.test(variable)) invalid.push(variable);
      else values.set(variable, value);
    }
    if (invalid.length > 0) skipped.push({ kind, namespace, name, keys: invalid.sort() });
  }

  const links = serviceLinks(view, namespace, spec['enableServiceLinks'] !== false);
  const linkValues = new Map(links);
  const lookup = (name: string) => values.get(name) ?? linkValues.get(name);

  for (const variable of objects(container['env'])) {
    const name = str(variable['name']) ?? '';
    if (typeof variable['value'] === 'string' || variable['valueFrom'] === undefined) {
      values.set(name, expand(str(variable['value']) ?? '', lookup));
      continue;
    }
    const from = obj(variable['valueFrom']);
    if (from['configMapKeyRef'] || from['secretKeyRef']) {
      const kind = from['configMapKeyRef'] ? 'configMap' : 'secret';
      const ref = obj(from[kind === 'configMap' ? 'configMapKeyRef' : 'secretKeyRef']);
      const sourceName = str(ref['name']) ?? '';
      const key = str(ref['key']) ?? '';
      const object = lookupSource(view, kind, namespace, sourceName);
      if (!object) {
        if (ref['optional'] === true) continue;
        throw notFound(kind, sourceName);
      }
      const value = dataOf(object, kind).get(key);
      if (value === undefined) {
        if (ref['optional'] === true) continue;
        throw new ContainerConfigError(`couldn't find key ${key} in ${kind === 'configMap' ? 'ConfigMap' : 'Secret'} ${namespace}/${sourceName}`);
      }
      values.set(name, value);
    } else if (from['fieldRef']) {
      values.set(name, podField(pod, str(obj(from['fieldRef'])['fieldPath']) ?? '') ?? '');
    } else if (from['resourceFieldRef']) {
      const ref = obj(from['resourceFieldRef']);
      values.set(name, resourceField(pod, str(ref['containerName']) || (str(container['name']) ?? ''), ref, allocatable));
    }
  }

  const env: Array<[string, string]> = [...values];
  for (const [name, value] of links) if (!values.has(name)) env.push([name, value]);
  return { env, skipped };
}
