// The webhooks the stored Validating/MutatingWebhookConfigurations name, read as upstream's
// webhook source does: configurations sorted by name, each one's webhooks in order. Read again only
// when a configuration changed, so a cluster without webhooks pays one version check a write.
import { asArray, asObject, type Json, str, strings } from '../../../json.ts';
import { labelSelectorFromObject, type LabelSelector, type Registry, type ResourceDefinition } from '../../../registry/index.ts';

export interface Rule {
  operations: string[];
  apiGroups: string[];
  apiVersions: string[];
  resources: string[];
  scope: string;
}

export interface ServiceReference {
  namespace: string;
  name: string;
  path: string;
  port: number;
}

export interface Webhook {
  /** The configuration that holds it (ValidatingWebhookConfiguration or MutatingWebhookConfiguration name). */
  configuration: string;
  name: string;
  mutating: boolean;
  rules: Rule[];
  failurePolicy: 'Fail' | 'Ignore';
  matchPolicy: 'Exact' | 'Equivalent';
  namespaceSelector: LabelSelector;
  objectSelector: LabelSelector;
  sideEffects: string;
  timeoutSeconds: number;
  reinvokeIfNeeded: boolean;
  admissionReviewVersions: string[];
  url: string | undefined;
  service: ServiceReference | undefined;
  caBundle: string | undefined;
}

function webhookOf(configuration: string, hook: Json, mutating: boolean): Webhook {
  const client = asObject(hook.clientConfig) ?? {};
  const service = asObject(client.service);
  return {
    configuration,
    name: str(hook.name) ?? '',
    mutating,
    rules: asArray(hook.rules).map((raw) => {
      const rule = asObject(raw) ?? {};
      return { operations: strings(rule.operations), apiGroups: strings(rule.apiGroups), apiVersions: strings(rule.apiVersions), resources: strings(rule.resources), scope: str(rule.scope) ?? '*' };
    }),
    failurePolicy: hook.failurePolicy === 'Ignore' ? 'Ignore' : 'Fail',
    matchPolicy: hook.matchPolicy === 'Exact' ? 'Exact' : 'Equivalent',
    // A missing selector is the empty one, which matches everything (the defaults say so too).
    namespaceSelector: labelSelectorFromObject(hook.namespaceSelector ?? {}),
    objectSelector: labelSelectorFromObject(hook.objectSelector ?? {}),
    sideEffects: str(hook.sideEffects) ?? '',
    timeoutSeconds: typeof hook.timeoutSeconds === 'number' ? hook.timeoutSeconds : 10,
    reinvokeIfNeeded: mutating && hook.reinvocationPolicy === 'IfNeeded',
    admissionReviewVersions: strings(hook.admissionReviewVersions),
    url: str(client.url),
    service: service ? { namespace: str(service.namespace) ?? '', name: str(service.name) ?? '', path: str(service.path) ?? '', port: typeof service.port === 'number' ? service.port : 443 } : undefined,
    caBundle: str(client.caBundle),
  };
}

export interface WebhookSource {
  /** The mutating webhooks, then the validating ones, in upstream's order; empty when none is configured. */
  mutating(): Webhook[];
  validating(): Webhook[];
}

const GROUP = 'admissionregistration.k8s.io';

export function webhookSource(registry: Registry): WebhookSource {
  const cached = (resource: string, mutating: boolean) => {
    let seen = '';
    let hooks: Webhook[] = [];
    let def: ResourceDefinition | undefined;
    return (): Webhook[] => {
      def ??= registry.lookup(GROUP, 'v1', resource);
      if (!def) return [];
      const version = registry.lastChangeOf(def);
      if (version === seen) return hooks;
      const configurations = [...registry.list(def, {}).items].sort((a, b) => ((a.metadata.name ?? '') < (b.metadata.name ?? '') ? -1 : 1));
      hooks = configurations.flatMap((configuration) => asArray((configuration as Json).webhooks).map((hook) => webhookOf(configuration.metadata.name ?? '', asObject(hook) ?? {}, mutating)));
      seen = version;
      return hooks;
    };
  };
  return { mutating: cached('mutatingwebhookconfigurations', true), validating: cached('validatingwebhookconfigurations', false) };
}
