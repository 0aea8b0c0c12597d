// Endpoints: addresses must be IPs that can be a pod's (never loopback, unspecified or link-local), ports valid (the endpoints controller of part 2 writes them).
import type { KubeObject } from '../../../types.ts';
import { asArray, asObject, objects, str } from '../../../json.ts';
import { defineResource, type ResourceStrategy } from '../../strategy.ts';
import { type FieldError, fieldError, isIPv4, isValidPortNumber, PORT_RANGE_MESSAGE, validateEndpointIP } from '../../validation.ts';

function validateEndpoints(endpoints: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  asArray(endpoints.subsets).forEach((raw, i) => {
    const subset = asObject(raw) ?? {};
    for (const field of ['addresses', 'notReadyAddresses'] as const) {
      objects(subset[field]).forEach((address, j) => {
        const ip = str(address.ip);
        const path = `subsets[${i}].${field}[${j}].ip`;
        if (!ip || !isIPv4(ip)) errs.push(fieldError.invalid(path, address.ip ?? '', 'must be a valid IP address'));
        else errs.push(...validateEndpointIP(path, ip));
      });
    }
    objects(subset.ports).forEach((port, j) => {
      if (!isValidPortNumber(port.port)) errs.push(fieldError.invalid(`subsets[${i}].ports[${j}].port`, port.port ?? 0, PORT_RANGE_MESSAGE));
    });
  });
  return errs;
}

export const endpoints: ResourceStrategy = {
  definition: defineResource({
    group: '',
    version: 'v1',
    resource: 'endpoints',
    kind: 'Endpoints',
    singular: 'endpoints',
    namespaced: true,
    shortNames: ['ep'],
    // KEP-4974: deprecated in 1.33, served on; the API server's deprecation warning for a GA kind.
    deprecation: 'v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice',
  }),
  allowCreateOnUpdate: true,
  validate: validateEndpoints,
  validateUpdate: (e) => validateEndpoints(e),
};
