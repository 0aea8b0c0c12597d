// Admission for the embedded cluster: NamespaceLifecycle, LimitRanger, ServiceAccount, PodSecurity, the certificate
// plugins (approve/sign on signers, no system:masters client certificates) and ResourceQuota,
// with what the pod sandbox cannot grant refused after PodSecurity (sandbox-capabilities.ts),
// in the order kube-apiserver runs them, then RBAC escalation prevention (upstream's roles and bindings storage). The registry calls them on every write (HTTP and in-process):
// pass `admissionPlugins()` to openRegistry.
import type { KubeObject } from '../../types.ts';
import type { AdmissionOperation, AdmissionPlugin, Registry, ResourceDefinition, UserInfo } from '../../registry/index.ts';
import { rbacEscalationPrevention } from '../auth/index.ts';
import { certificateAdmission } from './certificates.ts';
import { limitRanger } from './limit-ranger.ts';
import { namespaceLifecycle } from './namespace-lifecycle.ts';
import { podSecurity } from './pod-security/index.ts';
import { resourceQuota } from './resource-quota.ts';
import { sandboxCapabilities } from './sandbox-capabilities.ts';
import { serviceAccount } from './service-account.ts';

export function admissionPlugins(): AdmissionPlugin[] {
  return [namespaceLifecycle, limitRanger, serviceAccount, podSecurity, sandboxCapabilities, certificateAdmission, resourceQuota, rbacEscalationPrevention()];
}

/**
 * Runs every plugin on a copy of `object` outside the registry (e.g. to preview a write); the
 * registry itself already admits each write when opened with admissionPlugins().
 */
export function admit(
  registry: Registry,
  definition: ResourceDefinition,
  object: KubeObject,
  operation: AdmissionOperation,
  user: UserInfo | undefined,
  options: { oldObject?: KubeObject; dryRun?: boolean; subresource?: string } = {},
): KubeObject {
  const copy = structuredClone(object);
  const request = {
    operation,
    definition,
    namespace: definition.namespaced ? copy.metadata.namespace : undefined,
    name: copy.metadata.name ?? '',
    object: copy,
    oldObject: options.oldObject,
    subresource: options.subresource,
    user,
    dryRun: options.dryRun === true,
    registry,
    warnings: [],
  };
  for (const plugin of admissionPlugins()) plugin.mutate?.(request);
  for (const plugin of admissionPlugins()) plugin.validate?.(request);
  return copy;
}
