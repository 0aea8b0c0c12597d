// The AdmissionReview a webhook gets and what its answer must be (upstream's webhook/request and
// webhook/errors): the request as admission.k8s.io/v1 (or v1beta1 when that is all the webhook
// takes), the answer checked for its uid, kind and patch type, and a refusal turned into the
// Status the client sees, word for word.
import { randomUUID } from 'node:crypto';
import { asObject, type Json, str, strings } from '../../../json.ts';
import { type Status, StatusError } from '../../../types.ts';
import { CallFailure } from './call.ts';
import type { Webhook } from './configurations.ts';
import type { AdmissionAttributes } from './matching.ts';

const knownVersions = ['v1', 'v1beta1'];

/** The first AdmissionReview version the webhook lists that this server speaks. */
export function reviewVersion(hook: Webhook): string {
  const version = hook.admissionReviewVersions.find((candidate) => knownVersions.includes(candidate));
  if (!version) throw new CallFailure('webhook does not accept known AdmissionReview versions');
  return version;
}

export function admissionReview(version: string, attributes: AdmissionAttributes, object: Json | undefined): { uid: string; review: Json } {
  const uid = randomUUID();
  const def = attributes.definition;
  const kind = attributes.kind ?? { group: def.group, version: def.version, kind: def.kind };
  const resource = { group: def.group, version: def.version, resource: def.resource };
  const { user } = attributes;
  const request: Json = {
    uid,
    kind,
    resource,
    ...(attributes.subresource ? { subResource: attributes.subresource } : {}),
    requestKind: kind,
    requestResource: resource,
    ...(attributes.subresource ? { requestSubResource: attributes.subresource } : {}),
    ...(attributes.name ? { name: attributes.name } : {}),
    ...(attributes.namespace ? { namespace: attributes.namespace } : {}),
    operation: attributes.operation,
    userInfo: { username: user.username, ...(user.uid ? { uid: user.uid } : {}), groups: user.groups, ...(user.extra ? { extra: user.extra } : {}) },
    object: object ?? null,
    oldObject: attributes.oldObject ?? null,
    dryRun: attributes.dryRun,
    options: attributes.options,
  };
  return { uid, review: { kind: 'AdmissionReview', apiVersion: `admission.k8s.io/${version}`, request } };
}

export interface WebhookAnswer {
  allowed: boolean;
  result: Json | undefined;
  /** the decoded JSONPatch operations, when the webhook sent any */
  patch: unknown[] | undefined;
  warnings: string[];
}

/** VerifyAdmissionResponse: what makes an answer unusable is a failure to call the webhook. */
export function verifyAnswer(body: unknown, uid: string, version: string, mutating: boolean): WebhookAnswer {
  const review = asObject(body) ?? {};
  if (version === 'v1' && (review.apiVersion !== 'admission.k8s.io/v1' || review.kind !== 'AdmissionReview')) {
    throw new CallFailure(`expected webhook response of admission.k8s.io/v1, Kind=AdmissionReview, got ${str(review.apiVersion) ?? ''}, Kind=${str(review.kind) ?? ''}`);
  }
  const response = asObject(review.response);
  if (!response) throw new CallFailure('webhook response was absent');
  if (version === 'v1' && response.uid !== uid) throw new CallFailure(`expected response.uid=${JSON.stringify(uid)}, got ${JSON.stringify(str(response.uid) ?? '')}`);
  const patchText = str(response.patch);
  let patch: unknown[] | undefined;
  if (patchText) {
    if (!mutating) throw new CallFailure('validating webhooks may not return patches');
    const patchType = str(response.patchType);
    if (version === 'v1' && !patchType) throw new CallFailure('webhook returned response.patch but not response.patchType');
    if (patchType !== undefined && patchType !== 'JSONPatch') throw new CallFailure(`webhook returned invalid response.patchType of ${JSON.stringify(patchType)}`);
    let decoded: unknown;
    try {
      decoded = JSON.parse(Buffer.from(patchText, 'base64').toString('utf8'));
    } catch (error) {
      throw internalError(error instanceof Error ? error.message : String(error));
    }
    if (!Array.isArray(decoded)) throw internalError('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
    patch = decoded;
  }
  return { allowed: response.allowed === true, result: asObject(response.status), patch, warnings: strings(response.warnings) };
}

/** apierrors.NewInternalError. */
export function internalError(message: string): StatusError {
  const full = `Internal error occurred: ${message}`;
  return new StatusError({ code: 500, reason: 'InternalError', message: full, details: { causes: [{ message }] } });
}

/** ErrCallingWebhook under failurePolicy Fail: a 500 that is the webhook's failing, not the server's (logged as a warning, as kube-apiserver does). */
export class WebhookCallError extends StatusError {}

export function callingError(hook: Webhook, reason: string): StatusError {
  const message = `failed calling webhook "${hook.name}": ${reason}`;
  return new WebhookCallError({ code: 500, reason: 'InternalError', message: `Internal error occurred: ${message}`, details: { causes: [{ message }] } });
}

/** ToStatusErr: the webhook's own Status, with its code at least 400 and the message prefixed. */
export function denied(hook: Webhook, result: Json | undefined): StatusError {
  const deniedBy = `admission webhook "${hook.name}" denied the request`;
  const status = result ?? {};
  const code = typeof status.code === 'number' && status.code >= 400 ? status.code : 400;
  const message = str(status.message) ? `${deniedBy}: ${str(status.message)}` : str(status.reason) ? `${deniedBy}: ${str(status.reason)}` : `${deniedBy} without explanation`;
  const details = asObject(status.details) as Status['details'] | undefined;
  const reason = str(status.reason);
  return new StatusError({ code, message, ...(reason ? { reason } : {}), ...(details ? { details } : {}) });
}

/** NewDryRunUnsupportedErr. */
export function dryRunUnsupported(hook: Webhook): StatusError {
  return new StatusError({ code: 400, reason: 'BadRequest', message: `admission webhook "${hook.name}" does not support dry run` });
}
