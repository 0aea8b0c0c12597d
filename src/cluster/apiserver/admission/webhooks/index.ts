// Dynamic admission (MutatingAdmissionWebhook and ValidatingAdmissionWebhook): the API server
// calls the webhooks that Mutating/ValidatingWebhookConfigurations name for each write that their
// rules and selectors match. Mutating webhooks run one after the other, each seeing the previous
// one's patch, before the object is validated; validating webhooks then see the object as it
// would be stored, all at once, and any of them may refuse it.
//
// The registry's writes are synchronous, a webhook call is not: a write a webhook matches is first
// run as a dry run to get the object admission sees (defaulted, through the built-in plugins),
// the mutating webhooks' patches are applied to that object, it is previewed again for the
// validating webhooks, then written. Writes no webhook's rules match go straight to the registry.
// The pods the workload controllers create are sent as well (create()); the controllers' other
// writes, made in-process, are not.
import type { KubeObject } from '../../../types.ts';
import type { Json } from '../../../json.ts';
import { parseLabelSelector, type Registry, type ResourceDefinition, type UserInfo } from '../../../registry/index.ts';
import { libraries } from '../../libraries.ts';
import { CallFailure, type ClusterEgress, postReview } from './call.ts';
import { type Webhook, webhookSource } from './configurations.ts';
import { type AdmissionAttributes, shouldCall, type WebhookOperation } from './matching.ts';
import { admissionReview, callingError, denied, dryRunUnsupported, internalError, reviewVersion, verifyAnswer, type WebhookAnswer } from './review.ts';

export type { ClusterEgress } from './call.ts';
export type { WebhookOperation } from './matching.ts';
export { WebhookCallError } from './review.ts';

export interface WebhookWrite {
  operation: WebhookOperation;
  definition: ResourceDefinition;
  /** '' for cluster-scoped resources */
  namespace: string;
  name: string;
  /** '' for the resource itself, 'status' for its status */
  subresource: string;
  /** what the request asks to store (undefined for DELETE) */
  object: KubeObject | undefined;
  /** what is stored now (undefined for CREATE) */
  old: KubeObject | undefined;
  user: UserInfo;
  dryRun: boolean;
  /** CreateOptions, UpdateOptions or DeleteOptions as the review carries them */
  options: Json;
  /** Where the webhooks' warnings go (Warning headers). */
  warnings: string[];
  /** The object's kind when it is not the resource's (autoscaling/v1 Scale for a scale subresource). */
  kind?: { group: string; version: string; kind: string };
  /** The registry write; with `preview` a dry run whose result only admission sees. */
  run(object: KubeObject | undefined, preview: boolean): KubeObject;
}

export interface WebhookAdmission {
  /** Runs the write with the webhooks that match it around it; returns what the registry returned. */
  write(write: WebhookWrite): Promise<KubeObject>;
  /**
   * A CONNECT (pods/exec, attach, portforward, proxy): the webhooks see its options object
   * (PodExecOptions…) and may refuse it; none may change it.
   */
  connect(request: { definition: ResourceDefinition; namespace: string; name: string; subresource: string; options: Json; user: UserInfo }): Promise<void>;
  /** A create by one of the cluster's controllers, as its request would reach the API server. */
  create(definition: ResourceDefinition, namespace: string | undefined, object: KubeObject, user: UserInfo, run: (object: KubeObject, preview: boolean) => KubeObject): Promise<KubeObject>;
}

const sideEffectFree = ['None', 'NoneOnDryRun'];
const everything = parseLabelSelector(undefined);

/** The object as mutating admission sees a create: before the server fills in uid, timestamps and a generated name. */
function beforeCreate(preview: KubeObject, requested: KubeObject | undefined): KubeObject {
  const object = structuredClone(preview);
  const meta: Record<string, unknown> = object.metadata;
  for (const field of ['uid', 'creationTimestamp', 'resourceVersion', 'generation']) delete meta[field];
  if (!requested?.metadata.name) delete meta['name'];
  return object;
}

export function createWebhookAdmission(registry: Registry, egress: ClusterEgress | undefined): WebhookAdmission {
  const source = webhookSource(registry);

  /** One call, its failures sorted as upstream does: a refusal or a bad answer stands, a failure to call obeys failurePolicy. */
  const call = async (hook: Webhook, attributes: AdmissionAttributes, object: KubeObject | undefined): Promise<WebhookAnswer | undefined> => {
    if (attributes.dryRun && !sideEffectFree.includes(hook.sideEffects)) throw dryRunUnsupported(hook);
    try {
      const version = reviewVersion(hook);
      const { uid, review } = admissionReview(version, attributes, object as Json | undefined);
      const answer = verifyAnswer(await postReview(hook, review, egress), uid, version, hook.mutating);
      if (!answer.allowed) throw denied(hook, answer.result);
      return answer;
    } catch (error) {
      if (!(error instanceof CallFailure)) throw error;
      if (hook.failurePolicy === 'Ignore') return undefined;
      throw callingError(hook, error.message);
    }
  };

  /** The object after every mutating webhook, or undefined when none changed it; `patchable` false: a patch is refused (DELETE, CONNECT). */
  const mutate = async (hooks: Webhook[], attributes: AdmissionAttributes, warnings: string[], patchable: boolean): Promise<KubeObject | undefined> => {
    let object = attributes.object;
    let changed = false;
    /** IfNeeded webhooks called before a later webhook changed the object: called once more (reinvocationPolicy). */
    const reinvoke = new Set<Webhook>();
    const called: Webhook[] = [];
    const invoke = async (hook: Webhook) => {
      const answer = await call(hook, { ...attributes, object }, object);
      if (answer) warnings.push(...answer.warnings);
      called.push(hook);
      if (!answer?.patch || answer.patch.length === 0) return false;
      if (!object || !patchable) throw internalError(`admission webhook "${hook.name}" attempted to modify the object, which is not supported for this operation`);
      const { applyJsonPatch } = await libraries.patch();
      let patched: unknown;
      try {
        patched = applyJsonPatch(structuredClone(object), answer.patch);
      } catch (error) {
        throw internalError(error instanceof Error ? error.message : String(error));
      }
      if (JSON.stringify(patched) === JSON.stringify(object)) return false;
      object = patched as KubeObject;
      changed = true;
      return true;
    };
    for (const hook of hooks) {
      if (await invoke(hook)) for (const earlier of called) if (earlier !== hook && earlier.reinvokeIfNeeded) reinvoke.add(earlier);
    }
    for (const hook of hooks) if (reinvoke.has(hook)) await invoke(hook);
    return changed ? object : undefined;
  };

  const validate = async (hooks: Webhook[], attributes: AdmissionAttributes, warnings: string[]): Promise<void> => {
    const outcomes = await Promise.allSettled(hooks.map((hook) => call(hook, attributes, attributes.object)));
    for (const outcome of outcomes) if (outcome.status === 'rejected') throw outcome.reason;
    for (const outcome of outcomes) if (outcome.status === 'fulfilled' && outcome.value) warnings.push(...outcome.value.warnings);
  };

  const admission: WebhookAdmission = {
    async connect(request) {
      const attributes: AdmissionAttributes = {
        operation: 'CONNECT',
        definition: request.definition,
        subresource: request.subresource,
        namespace: request.namespace,
        name: request.name,
        // An options object has no metadata: the review carries it as the object all the same.
        object: request.options as unknown as KubeObject,
        oldObject: undefined,
        user: request.user,
        dryRun: false,
        options: null,
        kind: { group: '', version: 'v1', kind: String(request.options['kind']) },
      };
      // A CONNECT answers with a stream, not an object: warnings have nowhere to go.
      const warnings: string[] = [];
      const matching = (hooks: Webhook[]) => hooks.filter((hook) => shouldCall(hook, attributes, registry));
      const mutating = matching(source.mutating());
      if (mutating.length > 0) await mutate(mutating, attributes, warnings, false);
      const validating = matching(source.validating());
      if (validating.length > 0) await validate(validating, attributes, warnings);
    },
    create(definition, namespace, object, user, run) {
      const fieldManager = user.username.split(':').pop();
      return admission.write({
        operation: 'CREATE',
        definition,
        namespace: namespace ?? '',
        name: object.metadata.name ?? '',
        subresource: '',
        object,
        old: undefined,
        user,
        dryRun: false,
        options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1', ...(fieldManager ? { fieldManager } : {}) },
        warnings: [],
        run: (candidate, preview) => run(candidate ?? object, preview),
      });
    },
    async write(write) {
      const base: AdmissionAttributes = {
        operation: write.operation,
        definition: write.definition,
        subresource: write.subresource,
        namespace: write.namespace,
        name: write.name,
        object: write.object,
        oldObject: write.old,
        user: write.user,
        dryRun: write.dryRun,
        options: write.options,
        ...(write.kind ? { kind: write.kind } : {}),
      };
      // Rules first: they need no object, and most writes end here.
      const rulesOnly = (hook: Webhook) => hook.rules.length > 0 && shouldCall({ ...hook, namespaceSelector: everything, objectSelector: everything }, base, registry);
      const mutating = source.mutating().filter(rulesOnly);
      const validating = source.validating().filter(rulesOnly);
      if (mutating.length === 0 && validating.length === 0) return write.run(write.object, false);

      let object = write.object;
      if (mutating.length > 0) {
        const seen = write.operation === 'DELETE' ? undefined : write.operation === 'CREATE' ? beforeCreate(write.run(object, true), write.object) : write.run(object, true);
        const attributes = { ...base, object: seen };
        const hooks = mutating.filter((hook) => shouldCall(hook, attributes, registry));
        if (hooks.length > 0) object = (await mutate(hooks, attributes, write.warnings, write.operation !== 'DELETE')) ?? object;
      }
      if (validating.length > 0) {
        const final = write.operation === 'DELETE' ? undefined : write.run(object, true);
        // The name a validating webhook saw is the name stored.
        if (final && object && !object.metadata.name) object = { ...object, metadata: { ...object.metadata, name: final.metadata.name } };
        const attributes = { ...base, object: final, name: base.name || (final?.metadata.name ?? '') };
        const hooks = validating.filter((hook) => shouldCall(hook, attributes, registry));
        if (hooks.length > 0) await validate(hooks, attributes, write.warnings);
      }
      return write.run(object, false);
    },
  };
  return admission;
}
