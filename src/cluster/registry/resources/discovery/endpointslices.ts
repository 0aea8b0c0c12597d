// EndpointSlices: an address type that never changes, addresses that fit it.
import type { KubeObject } from '../../../types.ts';
import { asArray, objects } from '../../../json.ts';
import { defineResource, type ResourceStrategy } from '../../strategy.ts';
import { type FieldError, fieldError, immutableField, isDNS1123Subdomain, isIPv4, validateEndpointIP } from '../../validation.ts';

const addressTypes = ['FQDN', 'IPv4', 'IPv6'];

function validateSlice(slice: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const type = slice.addressType;
  if (!addressTypes.includes(String(type))) errs.push(fieldError.notSupported('addressType', type ?? '', addressTypes));
  objects(slice.endpoints).forEach((endpoint, i) => {
    const addresses = asArray(endpoint.addresses);
    if (addresses.length === 0) errs.push(fieldError.required(`endpoints[${i}].addresses`, 'must contain at least 1 address'));
    addresses.forEach((address, j) => {
      const text = String(address);
      const ok = type === 'IPv4' ? isIPv4(text) : type === 'FQDN' ? isDNS1123Subdomain(text).length === 0 : text.includes(':');
      if (!ok) errs.push(fieldError.invalid(`endpoints[${i}].addresses[${j}]`, address, `must be a valid ${String(type)} address`));
      else if (type === 'IPv4') errs.push(...validateEndpointIP(`endpoints[${i}].addresses[${j}]`, text));
    });
  });
  objects(slice.ports).forEach((port, i) => {
    const n = port.port;
    if (n !== undefined && (typeof n !== 'number' || n < 1 || n > 65535)) errs.push(fieldError.invalid(`ports[${i}].port`, n, 'must be between 1 and 65535, inclusive'));
  });
  return errs;
}

export const endpointslices: ResourceStrategy = {
  definition: defineResource({ group: 'discovery.k8s.io', version: 'v1', resource: 'endpointslices', kind: 'EndpointSlice', namespaced: true }),
  tracksGeneration: true,
  allowCreateOnUpdate: true,
  validate: validateSlice,
  validateUpdate: (slice, old) => [...validateSlice(slice), ...immutableField('addressType', slice.addressType, old.addressType)],
};

