// Which webhooks a request reaches (upstream's webhook/predicates): a rule that names its
// operation, group, version, resource/subresource and scope; the namespaceSelector against the
// labels of the request's namespace (of the Namespace itself when one is written); the
// objectSelector against the new or the old object's labels.
import type { KubeObject } from '../../../types.ts';
import type { LabelSelector, Registry, ResourceDefinition, UserInfo } from '../../../registry/index.ts';
import type { Json } from '../../../json.ts';
import type { Rule, Webhook } from './configurations.ts';

export type WebhookOperation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

/** One request as admission sees it (admission.Attributes). */
export interface AdmissionAttributes {
  operation: WebhookOperation;
  definition: ResourceDefinition;
  /** '' when the request is for the resource itself */
  subresource: string;
  /** '' for cluster-scoped resources */
  namespace: string;
  name: string;
  object: KubeObject | undefined;
  oldObject: KubeObject | undefined;
  user: UserInfo;
  dryRun: boolean;
  /** CreateOptions, UpdateOptions or DeleteOptions, as the review carries them; null for CONNECT */
  options: Json | null;
  /** The object's kind when it is not the resource's (autoscaling/v1 Scale for deployments/scale, v1 PodExecOptions for pods/exec). */
  kind?: { group: string; version: string; kind: string };
}

const any = (values: string[], value: string) => values.includes('*') || values.includes(value);

function resourceMatches(resources: string[], resource: string, subresource: string): boolean {
  return resources.some((entry) => {
    const slash = entry.indexOf('/');
    const [res, sub] = slash < 0 ? [entry, ''] : [entry.slice(0, slash), entry.slice(slash + 1)];
    return (res === '*' || res === resource) && (sub === '*' || sub === subresource);
  });
}

function ruleMatches(rule: Rule, attributes: AdmissionAttributes): boolean {
  const def = attributes.definition;
  if (!any(rule.operations, attributes.operation) || !any(rule.apiGroups, def.group) || !any(rule.apiVersions, def.version)) return false;
  if (!resourceMatches(rule.resources, def.resource, attributes.subresource)) return false;
  if (rule.scope === 'Cluster') return !def.namespaced;
  if (rule.scope === 'Namespaced') return def.namespaced;
  return true;
}

const isEmpty = (selector: LabelSelector) => selector.requirements.length === 0 && !selector.matchesNothing;

const isNamespace = (def: ResourceDefinition) => def.group === '' && def.resource === 'namespaces';

function namespaceLabels(attributes: AdmissionAttributes, registry: Registry): Record<string, string> | undefined {
  const { definition, operation } = attributes;
  if (isNamespace(definition) && attributes.subresource === '' && (operation === 'CREATE' || operation === 'UPDATE')) return attributes.object?.metadata.labels ?? {};
  const namespaces = registry.lookup('', 'v1', 'namespaces');
  if (!namespaces) return undefined;
  // A missing namespace answers 404, as upstream's matcher does.
  return registry.get(namespaces, undefined, isNamespace(definition) ? attributes.name : attributes.namespace).metadata.labels ?? {};
}

function namespaceSelected(hook: Webhook, attributes: AdmissionAttributes, registry: Registry): boolean {
  if (!attributes.definition.namespaced && !isNamespace(attributes.definition)) return true;
  if (isEmpty(hook.namespaceSelector)) return true;
  return hook.namespaceSelector.matches(namespaceLabels(attributes, registry));
}

function objectSelected(hook: Webhook, attributes: AdmissionAttributes): boolean {
  if (isEmpty(hook.objectSelector)) return true;
  // An object without metadata (a CONNECT's PodExecOptions) matches no selector, as meta.Accessor fails upstream.
  return [attributes.object, attributes.oldObject].some((object) => object?.metadata !== undefined && hook.objectSelector.matches(object.metadata.labels ?? {}));
}

/**
 * Whether the webhook is called for this request. matchPolicy Equivalent is taken as Exact: a
 * request to another version of a resource (autoscaling/v1 and v2 HorizontalPodAutoscalers) reaches
 * only the webhooks whose rules name that version, as the embedded cluster converts no object for a webhook.
 */
export function shouldCall(hook: Webhook, attributes: AdmissionAttributes, registry: Registry): boolean {
  if (!hook.rules.some((rule) => ruleMatches(rule, attributes))) return false;
  return namespaceSelected(hook, attributes, registry) && objectSelected(hook, attributes);
}
