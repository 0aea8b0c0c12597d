// Services (pkg/registry/core/service): defaults, cluster IP and node port allocation without
// collisions, immutable cluster IPs, allocations returned when the Service goes.
import type { KubeObject } from '../../../types.ts';
import { AllocationError, type Allocators } from '../../allocators.ts';
import { asArray, asObject, type Json, num, objects, str } from '../../../json.ts';
import { ensureObject, setDefault } from '../../fields.ts';
import { validateLabels } from '../../meta.ts';
import { defineResource, type ResourceStrategy, type StrategyContext, subresource } from '../../strategy.ts';
import {
  type FieldError,
  fieldError,
  GoValue,
  invalidObject,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isIPv4,
  isValidPortName,
  isValidPortNumber,
  PORT_RANGE_MESSAGE,
} from '../../validation.ts';

const serviceTypes = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];
const protocols = ['SCTP', 'TCP', 'UDP'];
const affinities = ['ClientIP', 'None'];
const trafficPolicies = ['Cluster', 'Local'];

function specOf(service: KubeObject): Json {
  return asObject(service.spec) ?? {};
}

function needsClusterIP(spec: Json): boolean {
  return spec.type !== 'ExternalName';
}

function needsNodePorts(spec: Json): boolean {
  return spec.type === 'NodePort' || spec.type === 'LoadBalancer';
}

function heldIP(service: KubeObject): string | undefined {
  const spec = specOf(service);
  const ip = str(spec.clusterIP);
  return needsClusterIP(spec) && ip && ip !== 'None' ? ip : undefined;
}

function heldPorts(service: KubeObject): number[] {
  const spec = specOf(service);
  if (!needsNodePorts(spec)) return [];
  return objects(spec.ports)
    .map((p) => num(p.nodePort))
    .filter((p): p is number => p !== undefined && p !== 0);
}

function stringList(values: string[]): GoValue {
  return new GoValue(`[]string{${values.map((v) => JSON.stringify(v)).join(', ')}}`);
}

function validatePorts(spec: Json): FieldError[] {
  const errs: FieldError[] = [];
  const ports = asArray(spec.ports);
  const headless = spec.clusterIP === 'None';
  if (ports.length === 0 && spec.type !== 'ExternalName' && !headless) errs.push(fieldError.required('spec.ports'));
  const names = new Set<string>();
  const keys = new Set<string>();
  ports.forEach((raw, i) => {
    const port = asObject(raw) ?? {};
    const path = `spec.ports[${i}]`;
    const name = port.name;
    if (ports.length > 1 && (typeof name !== 'string' || name === '')) errs.push(fieldError.required(`${path}.name`));
    if (typeof name === 'string' && name !== '') {
      for (const msg of isDNS1123Label(name)) errs.push(fieldError.invalid(`${path}.name`, name, msg));
      if (names.has(name)) errs.push(fieldError.duplicate(`${path}.name`, name));
      names.add(name);
    }
    if (!isValidPortNumber(port.port)) errs.push(fieldError.invalid(`${path}.port`, port.port ?? 0, PORT_RANGE_MESSAGE));
    if (port.protocol !== undefined && !protocols.includes(String(port.protocol))) errs.push(fieldError.notSupported(`${path}.protocol`, port.protocol, protocols));
    const key = `${String(port.port)}/${String(port.protocol ?? 'TCP')}`;
    if (keys.has(key)) errs.push(fieldError.duplicate(`${path}`, new GoValue(`core.ServicePort{Name:${JSON.stringify(name ?? '')}, Protocol:${JSON.stringify(port.protocol ?? 'TCP')}, Port:${String(port.port)}}`)));
    keys.add(key);
    const target = port.targetPort;
    if (typeof target === 'number' && !isValidPortNumber(target)) errs.push(fieldError.invalid(`${path}.targetPort`, target, PORT_RANGE_MESSAGE));
    if (typeof target === 'string' && !/^[0-9]+$/.test(target)) for (const msg of isValidPortName(target)) errs.push(fieldError.invalid(`${path}.targetPort`, target, msg));
    const nodePort = port.nodePort;
    if (nodePort !== undefined && nodePort !== 0) {
      if (!needsNodePorts(spec)) errs.push(fieldError.forbidden(`${path}.nodePort`, `may not be used when \`type\` is '${String(spec.type)}'`));
      else if (!isValidPortNumber(nodePort)) errs.push(fieldError.invalid(`${path}.nodePort`, nodePort, PORT_RANGE_MESSAGE));
    }
  });
  return errs;
}

function validateService(service: KubeObject): FieldError[] {
  const spec = specOf(service);
  const errs: FieldError[] = [];
  if (!asObject(service.spec)) return [fieldError.required('spec')];
  if (!serviceTypes.includes(String(spec.type))) errs.push(fieldError.notSupported('spec.type', spec.type, serviceTypes));
  if (spec.type === 'ExternalName') {
    const external = spec.externalName;
    if (typeof external !== 'string' || external === '') errs.push(fieldError.required('spec.externalName'));
    else for (const msg of isDNS1123Subdomain(external.replace(/\.$/, ''))) errs.push(fieldError.invalid('spec.externalName', external, msg));
    const ip = str(spec.clusterIP);
    if (ip && ip !== '') errs.push(fieldError.forbidden('spec.clusterIPs', 'may not be set for ExternalName services'));
  }
  const ip = spec.clusterIP;
  if (ip !== undefined && ip !== '' && ip !== 'None' && !(typeof ip === 'string' && isIPv4(ip)))
    errs.push(fieldError.invalid('spec.clusterIPs[0]', ip, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
  if (!affinities.includes(String(spec.sessionAffinity))) errs.push(fieldError.notSupported('spec.sessionAffinity', spec.sessionAffinity, affinities));
  for (const field of ['externalTrafficPolicy', 'internalTrafficPolicy']) {
    const value = spec[field];
    if (value !== undefined && !trafficPolicies.includes(String(value))) errs.push(fieldError.notSupported(`spec.${field}`, value, trafficPolicies));
  }
  if (spec.externalTrafficPolicy !== undefined && !needsNodePorts(spec))
    errs.push(fieldError.invalid('spec.externalTrafficPolicy', spec.externalTrafficPolicy, 'may only be set when `type` is \'NodePort\' or \'LoadBalancer\''));
  errs.push(...validatePorts(spec));
  errs.push(...validateLabels(spec.selector, 'spec.selector'));
  return errs;
}

function defaults(service: Json & KubeObject): void {
  const spec = asObject(service.spec);
  if (!spec) return;
  setDefault(spec, 'type', 'ClusterIP');
  setDefault(spec, 'sessionAffinity', 'None');
  if (spec.sessionAffinity === 'ClientIP') {
    const clientIP = ensureObject(ensureObject(spec, 'sessionAffinityConfig'), 'clientIP');
    setDefault(clientIP, 'timeoutSeconds', 10800);
  }
  for (const port of objects(spec.ports)) {
    setDefault(port, 'protocol', 'TCP');
    if (port.targetPort === undefined || port.targetPort === 0 || port.targetPort === '') port.targetPort = port.port;
  }
  if (needsNodePorts(spec)) setDefault(spec, 'externalTrafficPolicy', 'Cluster');
  if (needsClusterIP(spec)) setDefault(spec, 'internalTrafficPolicy', 'Cluster');
  if (spec.type === 'LoadBalancer') setDefault(spec, 'allocateLoadBalancerNodePorts', true);
  if (typeof spec.clusterIP !== 'string' && Array.isArray(spec.clusterIPs) && typeof spec.clusterIPs[0] === 'string') spec.clusterIP = spec.clusterIPs[0];
}

/** Takes what the new state needs and the old state did not hold; gives back on failure. */
function allocate(service: Json & KubeObject, old: KubeObject | undefined, ctx: StrategyContext): void {
  const spec = asObject(service.spec);
  if (!spec) return;
  const { clusterIPs, nodePorts } = ctx.allocators;
  const name = service.metadata.name ?? '';
  const oldIP = old ? heldIP(old) : undefined;
  const oldPorts = new Set(old ? heldPorts(old) : []);
  const takenIPs: string[] = [];
  const takenPorts: number[] = [];
  try {
    if (needsClusterIP(spec)) {
      const requested = str(spec.clusterIP);
      if (requested === 'None') {
        spec.clusterIPs = ['None'];
      } else if (requested && requested === oldIP) {
        spec.clusterIPs = [requested];
      } else {
        try {
          if (requested) clusterIPs.allocate(requested, ctx.dryRun);
          const ip = requested || clusterIPs.allocateNext(ctx.dryRun);
          if (!ctx.dryRun) takenIPs.push(ip);
          spec.clusterIP = ip;
          spec.clusterIPs = [ip];
        } catch (error) {
          if (error instanceof AllocationError) throw invalidObject('Service', '', name, [fieldError.invalid('spec.clusterIPs', stringList([requested ?? '']), error.message)]);
          throw error;
        }
      }
      setDefault(spec, 'ipFamilies', ['IPv4']);
      setDefault(spec, 'ipFamilyPolicy', 'SingleStack');
    }
    if (needsNodePorts(spec)) {
      objects(spec.ports).forEach((port, i) => {
        const requested = num(port.nodePort);
        if (requested && oldPorts.has(requested)) return;
        try {
          if (requested) nodePorts.allocate(requested, ctx.dryRun);
          const chosen = requested || nodePorts.allocateNext(ctx.dryRun);
          if (!ctx.dryRun) takenPorts.push(chosen);
          port.nodePort = chosen;
        } catch (error) {
          if (error instanceof AllocationError) throw invalidObject('Service', '', name, [fieldError.invalid(`spec.ports[${i}].nodePort`, requested ?? 0, error.message)]);
          throw error;
        }
      });
    }
  } catch (error) {
    for (const ip of takenIPs) clusterIPs.release(ip);
    for (const port of takenPorts) nodePorts.release(port);
    throw error;
  }
}

function release(service: KubeObject, replacement: KubeObject | undefined, ctx: StrategyContext): void {
  const ip = heldIP(service);
  if (ip && (!replacement || heldIP(replacement) !== ip)) ctx.allocators.clusterIPs.release(ip);
  const kept = new Set(replacement ? heldPorts(replacement) : []);
  for (const port of heldPorts(service)) if (!kept.has(port)) ctx.allocators.nodePorts.release(port);
}

function restore(service: KubeObject, allocators: Allocators): void {
  const ip = heldIP(service);
  if (ip && !allocators.clusterIPs.isAllocated(ip)) allocators.clusterIPs.allocate(ip);
  for (const port of heldPorts(service)) if (!allocators.nodePorts.isAllocated(port)) allocators.nodePorts.allocate(port);
}

export const services: ResourceStrategy = {
  definition: defineResource({
    group: '',
    version: 'v1',
    resource: 'services',
    kind: 'Service',
    namespaced: true,
    shortNames: ['svc'],
    categories: ['all'],
    subresources: [{ name: 'proxy', kind: 'ServiceProxyOptions', group: '', version: 'v1', verbs: ['create', 'delete', 'get', 'patch', 'update'] }, subresource.status('', 'v1', 'Service')],
  }),
  allowCreateOnUpdate: true,
  validateName: (name, prefix) => isDNS1035Label(prefix && name.endsWith('-') ? `${name.slice(0, -1)}a` : name),
  defaults,

  prepareForCreate(service) {
    service.status = { loadBalancer: {} };
  },

  validate: validateService,

  prepareForUpdate(service, old) {
    // a client that sends the manifest again (kubectl replace) keeps what was allocated
    const spec = asObject(service.spec);
    const oldSpec = specOf(old);
    if (!spec) return;
    if (needsClusterIP(spec) && needsClusterIP(oldSpec) && (spec.clusterIP === undefined || spec.clusterIP === '')) {
      spec.clusterIP = oldSpec.clusterIP;
      if (spec.clusterIPs === undefined) spec.clusterIPs = oldSpec.clusterIPs;
      if (spec.ipFamilies === undefined) spec.ipFamilies = oldSpec.ipFamilies;
      if (spec.ipFamilyPolicy === undefined) spec.ipFamilyPolicy = oldSpec.ipFamilyPolicy;
    }
    if (needsNodePorts(spec) && needsNodePorts(oldSpec)) {
      const oldPorts = objects(oldSpec.ports);
      for (const port of objects(spec.ports)) {
        if (port.nodePort !== undefined && port.nodePort !== 0) continue;
        const match = oldPorts.find((p) => p.port === port.port && (p.protocol ?? 'TCP') === (port.protocol ?? 'TCP')) ?? (objects(spec.ports).length === 1 ? oldPorts[0] : undefined);
        if (match?.nodePort) port.nodePort = match.nodePort;
      }
    }
  },

  validateUpdate(service, old) {
    const errs = validateService(service);
    const spec = specOf(service);
    const oldSpec = specOf(old);
    const oldIP = str(oldSpec.clusterIP);
    if (needsClusterIP(spec) && needsClusterIP(oldSpec) && oldIP && spec.clusterIP !== oldIP) {
      const rest = Array.isArray(spec.clusterIPs) ? spec.clusterIPs.slice(1).map(String) : [];
      errs.push(fieldError.invalid('spec.clusterIPs[0]', stringList([String(spec.clusterIP ?? ''), ...rest]), 'may not change once set'));
    }
    return errs;
  },

  allocate,
  release,
  restore,
};

