// CertificateSigningRequests (certificates.k8s.io/v1), as pkg/registry/certificates and
// pkg/apis/certificates/validation: the requester's identity stamped into spec on create, the
// request's PEM and signature checked, approval conditions changed only through /approval and the
// certificate only through /status, neither ever removed or rewritten once there. Signing is the
// signer controller's part (controllers/certificate-signing.ts).
import type { KubeObject } from '../../../types.ts';
import { asArray, asObject, type Json, str, strings } from '../../../json.ts';
import { setDefault } from '../../fields.ts';
import { defineResource, type ResourceStrategy, type StrategyContext, subresource } from '../../strategy.ts';
import { type FieldError, fieldError, GoValue, isDNS1123Label, isDNS1123Subdomain } from '../../validation.ts';
import { statusErrors } from '../../../types.ts';
import { parseCertificateRequest, RequestError } from './request.ts';

const GROUP = 'certificates.k8s.io';
const KIND = 'CertificateSigningRequest';

const validUsages = [
  'any',
  'cert sign',
  'client auth',
  'code signing',
  'content commitment',
  'crl sign',
  'data encipherment',
  'decipher only',
  'digital signature',
  'email protection',
  'encipher only',
  'ipsec end system',
  'ipsec tunnel',
  'ipsec user',
  'key agreement',
  'key encipherment',
  'microsoft sgc',
  'netscape sgc',
  'ocsp signing',
  's/mime',
  'server auth',
  'signing',
  'timestamping',
];
/** Conditions that may only be True, and that no update may remove. */
const finalConditions = ['Approved', 'Denied', 'Failed'];

const specOf = (csr: KubeObject): Json => asObject(csr.spec) ?? {};
const statusOf = (csr: KubeObject): Json => asObject(csr.status) ?? {};
const conditionsOf = (csr: KubeObject): Json[] => asArray(statusOf(csr).conditions).map((condition) => asObject(condition) ?? {});

/** Go's []byte as field errors print it. */
function goBytes(bytes: Buffer): GoValue {
  return new GoValue(`[]byte{${[...bytes].map((byte) => `0x${byte.toString(16)}`).join(', ')}}`);
}

/** Base64 as encoding/json decodes a []byte: the first illegal byte ends it. */
function decodeBytes(value: unknown, field: string): Buffer {
  const text = typeof value === 'string' ? value : '';
  const illegal = text.search(/[^A-Za-z0-9+/=]/);
  const padding = text.indexOf('=');
  if (illegal >= 0 || (padding >= 0 && padding < text.length - 2) || text.length % 4 !== 0) {
    const at = illegal >= 0 ? illegal : padding >= 0 && padding < text.length - 2 ? padding : text.length - (text.length % 4);
    throw statusErrors.badRequest(`${KIND} in version "v1" cannot be handled as a ${KIND}: illegal base64 data at input byte ${at} (${field})`);
  }
  return Buffer.from(text, 'base64');
}

/** ValidateSignerName. */
function validateSignerName(signerName: string): FieldError[] {
  const path = 'spec.signerName';
  if (signerName === '') return [fieldError.required(path)];
  const segments = signerName.split('/');
  if (segments.length !== 2) return [fieldError.invalid(path, signerName, "must be a fully qualified domain and path of the form 'example.com/signer-name'")];
  const [domain, name] = segments as [string, string];
  const errs: FieldError[] = [];
  if (domain.length > 253) errs.push(fieldError.tooLong(path, 253));
  const labels = domain.split('.');
  for (const label of labels) {
    const problems = isDNS1123Label(label);
    if (problems.length > 0) {
      for (const problem of problems) errs.push(fieldError.invalid(path, domain, `validating label "${label}": ${problem}`));
      break;
    }
  }
  if (labels.length < 2) errs.push(fieldError.invalid(path, domain, 'should be a domain with at least two segments separated by dots'));
  for (const problem of isDNS1123Subdomain(name)) errs.push(fieldError.invalid(path, name, `validating component "${name}": ${problem}`));
  return errs;
}

function validateConditions(csr: KubeObject, old: KubeObject | undefined): FieldError[] {
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  const oldTypes = old ? conditionsOf(old).map((condition) => str(condition.type) ?? '') : [];
  const tolerateBoth = oldTypes.includes('Approved') && oldTypes.includes('Denied');
  let approved = false;
  let denied = false;
  conditionsOf(csr).forEach((condition, i) => {
    const path = `status.conditions[${i}]`;
    const type = str(condition.type) ?? '';
    if (type === '') errs.push(fieldError.required(`${path}.type`));
    const status = str(condition.status) ?? '';
    const allowed = finalConditions.includes(type) ? ['True'] : ['False', 'True', 'Unknown'];
    if (status === '') errs.push(fieldError.required(`${path}.status`));
    else if (!allowed.includes(status)) errs.push(fieldError.notSupported(`${path}.status`, status, allowed));
    if (!tolerateBoth && ((type === 'Approved' && denied) || (type === 'Denied' && approved))) errs.push(fieldError.invalid(`${path}.type`, type, 'Approved and Denied conditions are mutually exclusive'));
    if (type === 'Approved') approved = true;
    if (type === 'Denied') denied = true;
    if (seen.has(type)) errs.push(fieldError.duplicate(`${path}.type`, type));
    seen.add(type);
  });
  return errs;
}

/** validateCertificate: PEM CERTIFICATE blocks only. */
function certificateProblem(pem: string): string | undefined {
  if (pem === '') return undefined;
  const blocks = [...pem.matchAll(/-----BEGIN ([^-\r\n]+)-----/g)].map((match) => match[1]);
  if (blocks.length === 0) return 'must contain at least one CERTIFICATE PEM block';
  const other = blocks.find((type) => type !== 'CERTIFICATE');
  return other === undefined ? undefined : `only CERTIFICATE PEM blocks are allowed, found "${other}"`;
}

function validateCSR(csr: KubeObject, old: KubeObject | undefined): FieldError[] {
  const spec = specOf(csr);
  const errs: FieldError[] = [];
  const request = decodeBytes(spec.request, 'spec.request');
  try {
    parseCertificateRequest(request.toString('latin1'));
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    errs.push(fieldError.invalid('spec.request', goBytes(request), error.message));
  }
  const usages = strings(spec.usages);
  if (usages.length === 0) errs.push(fieldError.required('spec.usages'));
  const oldUsages = old ? strings(specOf(old).usages) : [];
  if (!oldUsages.some((usage) => !validUsages.includes(usage))) {
    usages.forEach((usage, i) => {
      if (!validUsages.includes(usage)) errs.push(fieldError.notSupported(`spec.usages[${i}]`, usage, validUsages));
    });
  }
  if (new Set(oldUsages).size === oldUsages.length) {
    usages.forEach((usage, i) => {
      if (usages.indexOf(usage) !== i) errs.push(fieldError.duplicate(`spec.usages[${i}]`, usage));
    });
  }
  const signerName = str(spec.signerName) ?? '';
  if (signerName === 'kubernetes.io/legacy-unknown' && str(old ? specOf(old).signerName : undefined) !== signerName) {
    errs.push(fieldError.invalid('spec.signerName', signerName, 'the legacy signerName is not allowed via this API version'));
  } else errs.push(...validateSignerName(signerName));
  const expiration = spec.expirationSeconds;
  if (typeof expiration === 'number' && expiration < 600) errs.push(fieldError.invalid('spec.expirationSeconds', expiration, 'may not specify a duration less than 600 seconds (10 minutes)'));
  errs.push(...validateConditions(csr, old));
  const certificate = str(statusOf(csr).certificate) ?? '';
  if (!old || certificate !== (str(statusOf(old).certificate) ?? '')) {
    const problem = certificateProblem(decodeBytes(certificate, 'status.certificate').toString('latin1'));
    if (problem) errs.push(fieldError.invalid('status.certificate', new GoValue('"<certificate data>"'), problem));
  }
  return errs;
}

function validateUpdate(csr: KubeObject, old: KubeObject, options: { approval: boolean; certificate: boolean }): FieldError[] {
  const errs = validateCSR(csr, old);
  const ofType = (object: KubeObject, type: string) => conditionsOf(object).filter((condition) => condition.type === type);
  for (const type of finalConditions) {
    if (ofType(csr, type).length < ofType(old, type).length) errs.push(fieldError.forbidden('status.conditions', `updates may not remove a condition of type "${type}"`));
  }
  if (!options.approval) {
    for (const type of ['Approved', 'Denied']) {
      const [now, before] = [ofType(csr, type), ofType(old, type)];
      if (now.length > before.length) errs.push(fieldError.forbidden('status.conditions', `updates may not add a condition of type "${type}"`));
      else if (now.length === before.length && JSON.stringify(now) !== JSON.stringify(before)) errs.push(fieldError.forbidden('status.conditions', `updates may not modify a condition of type "${type}"`));
    }
  }
  const [certificate, previous] = [str(statusOf(csr).certificate) ?? '', str(statusOf(old).certificate) ?? ''];
  if (certificate !== previous) {
    if (!options.certificate) errs.push(fieldError.forbidden('status.certificate', 'updates may not set certificate content'));
    else if (previous !== '') errs.push(fieldError.forbidden('status.certificate', 'updates may not modify existing certificate content'));
  }
  return errs;
}

/** populateConditionTimestamps, with v1's default status True. */
function stampConditions(csr: Json & KubeObject, old: KubeObject, ctx: StrategyContext): void {
  const now = ctx.now.toISOString().replace(/\.\d{3}Z$/, 'Z');
  for (const condition of conditionsOf(csr)) {
    setDefault(condition, 'status', 'True');
    if (!condition.lastUpdateTime) condition.lastUpdateTime = now;
    if (!condition.lastTransitionTime) {
      const same = conditionsOf(old).find((before) => before.type === condition.type && before.status === condition.status && before.lastTransitionTime);
      condition.lastTransitionTime = same?.lastTransitionTime ?? now;
    }
  }
}

/** The old object's instances of a condition type take the place of the new one's, when their counts agree. */
function preserveConditions(csr: Json & KubeObject, old: KubeObject, type: string): void {
  const conditions = asArray(statusOf(csr).conditions);
  const before = conditionsOf(old).filter((condition) => condition.type === type);
  const indices = conditions.flatMap((condition, i) => (asObject(condition)?.type === type ? [i] : []));
  if (before.length !== indices.length) return;
  indices.forEach((index, i) => (conditions[index] = structuredClone(before[i])));
}

export const certificatesigningrequests: ResourceStrategy = {
  definition: defineResource({
    group: GROUP,
    version: 'v1',
    resource: 'certificatesigningrequests',
    kind: KIND,
    namespaced: false,
    shortNames: ['csr'],
    subresources: [subresource.status(GROUP, 'v1', KIND), { name: 'approval', kind: KIND, group: GROUP, version: 'v1', verbs: ['get', 'patch', 'update'] }],
  }),
  // "We don't care what you call your certificate requests."
  validateName: () => [],
  prepareForCreate(csr, ctx) {
    const spec = asObject(csr.spec) ?? {};
    csr.spec = spec;
    for (const field of ['username', 'uid', 'groups', 'extra']) delete spec[field];
    const user = ctx.user;
    if (user) {
      spec.username = user.username;
      if (user.uid) spec.uid = user.uid;
      spec.groups = [...user.groups];
      if (user.extra && Object.keys(user.extra).length > 0) spec.extra = structuredClone(user.extra);
    }
    csr.status = {};
  },
  validate: (csr) => validateCSR(csr, undefined),
  prepareForUpdate(csr, old) {
    csr.spec = structuredClone(old.spec);
    csr.status = structuredClone(old.status);
  },
  validateUpdate: (csr, old) => validateUpdate(csr, old, { approval: false, certificate: false }),
  prepareForStatusUpdate(csr, old, ctx) {
    csr.spec = structuredClone(old.spec);
    preserveConditions(csr, old, 'Approved');
    preserveConditions(csr, old, 'Denied');
    stampConditions(csr, old, ctx);
  },
  validateStatusUpdate: (csr, old) => validateUpdate(csr, old, { approval: false, certificate: true }),
  prepareForApproval(csr, input, ctx) {
    // Only the conditions come from the request; csr starts as the stored object.
    const old = structuredClone(csr) as KubeObject;
    const conditions = structuredClone(asArray(asObject(input.status)?.conditions));
    const status: Json = { ...statusOf(csr) };
    if (conditions.length > 0) status.conditions = conditions;
    else delete status.conditions;
    csr.status = status;
    stampConditions(csr, old, ctx);
  },
  validateApprovalUpdate: (csr, old) => validateUpdate(csr, old, { approval: true, certificate: false }),
};
