// Ingresses: rules with paths that have a pathType and a backend that names a service port.
import type { KubeObject } from '../../../types.ts';
import { asArray, asObject } from '../../../json.ts';
import { defineResource, type ResourceStrategy, subresource } from '../../strategy.ts';
import { type FieldError, fieldError, isDNS1035Label, isDNS1123Subdomain, isValidPortName, isValidPortNumber, PORT_RANGE_MESSAGE } from '../../validation.ts';

const pathTypes = ['Exact', 'ImplementationSpecific', 'Prefix'];

function validateBackend(backend: unknown, path: string): FieldError[] {
  const b = asObject(backend);
  if (!b) return [fieldError.required(path)];
  const errs: FieldError[] = [];
  const service = asObject(b.service);
  if (service && b.resource) errs.push(fieldError.invalid(path, '', 'cannot set both resource and service backends'));
  if (!service && !b.resource) errs.push(fieldError.invalid(path, '', 'resource or service backend is required'));
  if (service) {
    const name = service.name;
    if (typeof name !== 'string' || name === '') errs.push(fieldError.required(`${path}.service.name`));
    else for (const msg of isDNS1035Label(name)) errs.push(fieldError.invalid(`${path}.service.name`, name, msg));
    const port = asObject(service.port) ?? {};
    if (port.name !== undefined && port.number !== undefined) errs.push(fieldError.invalid(`${path}.service.port`, '', 'cannot set both port name & port number'));
    else if (typeof port.name === 'string') for (const msg of isValidPortName(port.name)) errs.push(fieldError.invalid(`${path}.service.port.name`, port.name, msg));
    else if (port.number !== undefined) {
      if (!isValidPortNumber(port.number)) errs.push(fieldError.invalid(`${path}.service.port.number`, port.number, PORT_RANGE_MESSAGE));
    } else errs.push(fieldError.invalid(`${path}.service.port`, '', 'port name or number is required'));
  }
  return errs;
}

function validateIngress(ingress: KubeObject): FieldError[] {
  const spec = asObject(ingress.spec) ?? {};
  const errs: FieldError[] = [];
  const rules = asArray(spec.rules);
  if (spec.defaultBackend === undefined && rules.length === 0) errs.push(fieldError.invalid('spec', '', 'either `defaultBackend` or `rules` must be specified'));
  if (spec.defaultBackend !== undefined) errs.push(...validateBackend(spec.defaultBackend, 'spec.defaultBackend'));
  rules.forEach((raw, i) => {
    const rule = asObject(raw) ?? {};
    const host = rule.host;
    if (typeof host === 'string' && host !== '') {
      const bare = host.startsWith('*.') ? host.slice(2) : host;
      for (const msg of isDNS1123Subdomain(bare)) errs.push(fieldError.invalid(`spec.rules[${i}].host`, host, msg));
    }
    const http = asObject(rule.http);
    if (!http) return;
    const paths = asArray(http.paths);
    if (paths.length === 0) errs.push(fieldError.required(`spec.rules[${i}].http.paths`));
    paths.forEach((rawPath, j) => {
      const p = asObject(rawPath) ?? {};
      const base = `spec.rules[${i}].http.paths[${j}]`;
      if (p.pathType === undefined) errs.push(fieldError.required(`${base}.pathType`, 'pathType must be specified'));
      else if (!pathTypes.includes(String(p.pathType))) errs.push(fieldError.notSupported(`${base}.pathType`, p.pathType, pathTypes));
      if (p.pathType !== 'ImplementationSpecific' || p.path !== undefined) {
        if (typeof p.path !== 'string' || !p.path.startsWith('/')) errs.push(fieldError.invalid(`${base}.path`, p.path ?? '', "must be an absolute path"));
      }
      errs.push(...validateBackend(p.backend, `${base}.backend`));
    });
  });
  return errs;
}

export const ingresses: ResourceStrategy = {
  definition: defineResource({
    group: 'networking.k8s.io',
    version: 'v1',
    resource: 'ingresses',
    kind: 'Ingress',
    namespaced: true,
    shortNames: ['ing'],
    subresources: [subresource.status('networking.k8s.io', 'v1', 'Ingress')],
  }),
  tracksGeneration: true,
  prepareForCreate(ingress) {
    ingress.status = { loadBalancer: {} };
  },
  validate: validateIngress,
  validateUpdate: (ingress) => validateIngress(ingress),
};
