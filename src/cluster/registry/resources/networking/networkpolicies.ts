// NetworkPolicies: policyTypes defaulted from the rules present, ports TCP by default.
import type { KubeObject } from '../../../types.ts';
import { asArray, asObject, objects } from '../../../json.ts';
import { setDefault } from '../../fields.ts';
import { defineResource, type ResourceStrategy } from '../../strategy.ts';
import { type FieldError, fieldError, isValidPortName, isValidPortNumber, PORT_RANGE_MESSAGE } from '../../validation.ts';
import { validateLabelSelector } from '../core/podspec.ts';

const policyTypes = ['Egress', 'Ingress'];
const protocols = ['SCTP', 'TCP', 'UDP'];

function validatePolicy(policy: KubeObject): FieldError[] {
  const spec = asObject(policy.spec) ?? {};
  const errs = validateLabelSelector(spec.podSelector, 'spec.podSelector', false);
  asArray(spec.policyTypes).forEach((type, i) => {
    if (!policyTypes.includes(String(type))) errs.push(fieldError.notSupported(`spec.policyTypes[${i}]`, type, policyTypes));
  });
  for (const direction of ['ingress', 'egress'] as const) {
    objects(spec[direction]).forEach((rule, i) => {
      objects(rule.ports).forEach((port, j) => {
        const path = `spec.${direction}[${i}].ports[${j}]`;
        if (port.protocol !== undefined && !protocols.includes(String(port.protocol))) errs.push(fieldError.notSupported(`${path}.protocol`, port.protocol, protocols));
        if (typeof port.port === 'number' && !isValidPortNumber(port.port)) errs.push(fieldError.invalid(`${path}.port`, port.port, PORT_RANGE_MESSAGE));
        if (typeof port.port === 'string') for (const msg of isValidPortName(port.port)) errs.push(fieldError.invalid(`${path}.port`, port.port, msg));
      });
      const peers = objects(rule[direction === 'ingress' ? 'from' : 'to']);
      peers.forEach((peer, j) => {
        const kinds = ['podSelector', 'namespaceSelector', 'ipBlock'].filter((k) => peer[k] !== undefined);
        const path = `spec.${direction}[${i}].${direction === 'ingress' ? 'from' : 'to'}[${j}]`;
        if (kinds.length === 0) errs.push(fieldError.required(path, 'must specify a peer'));
        if (peer.ipBlock !== undefined && kinds.length > 1) errs.push(fieldError.forbidden(path, 'may not specify both ipBlock and another peer'));
        const cidr = asObject(peer.ipBlock)?.cidr;
        if (peer.ipBlock !== undefined && (typeof cidr !== 'string' || !/^[0-9a-fA-F.:]+\/[0-9]{1,3}$/.test(cidr))) errs.push(fieldError.invalid(`${path}.ipBlock.cidr`, cidr ?? '', 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'));
      });
    });
  }
  return errs;
}

export const networkpolicies: ResourceStrategy = {
  definition: defineResource({ group: 'networking.k8s.io', version: 'v1', resource: 'networkpolicies', kind: 'NetworkPolicy', namespaced: true, shortNames: ['netpol'] }),
  tracksGeneration: true,
  defaults(policy) {
    const spec = asObject(policy.spec);
    if (!spec) {
      policy.spec = { podSelector: {}, policyTypes: ['Ingress'] };
      return;
    }
    setDefault(spec, 'podSelector', {});
    if (spec.policyTypes === undefined || asArray(spec.policyTypes).length === 0) {
      spec.policyTypes = spec.egress !== undefined ? ['Ingress', 'Egress'] : ['Ingress'];
    }
    for (const direction of ['ingress', 'egress']) for (const rule of objects(spec[direction])) for (const port of objects(rule.ports)) setDefault(port, 'protocol', 'TCP');
  },
  validate: validatePolicy,
  validateUpdate: (policy) => validatePolicy(policy),
};
