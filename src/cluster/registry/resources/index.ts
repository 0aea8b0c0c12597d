// Every built-in resource strategy. Adding a resource means adding its file and one line here.
import type { ResourceStrategy } from '../strategy.ts';
import { configmaps } from './core/configmaps.ts';
import { endpoints } from './core/endpoints.ts';
import { events } from './core/events.ts';
import { limitranges } from './core/limitranges.ts';
import { namespaces } from './core/namespaces.ts';
import { nodes } from './core/nodes.ts';
import { persistentvolumeclaims, persistentvolumes } from './core/persistentvolumes.ts';
import { pods } from './core/pods.ts';
import { podtemplates } from './core/podtemplates.ts';
import { replicationcontrollers } from './core/replicationcontrollers.ts';
import { resourcequotas } from './core/resourcequotas.ts';
import { secrets } from './core/secrets.ts';
import { serviceaccounts } from './core/serviceaccounts.ts';
import { services } from './core/services.ts';
import { controllerrevisions } from './apps/controllerrevisions.ts';
import { daemonsets } from './apps/daemonsets.ts';
import { deployments } from './apps/deployments.ts';
import { replicasets } from './apps/replicasets.ts';
import { statefulsets } from './apps/statefulsets.ts';
import { cronjobs } from './batch/cronjobs.ts';
import { jobs } from './batch/jobs.ts';
import { ingressclasses } from './networking/ingressclasses.ts';
import { ingresses } from './networking/ingresses.ts';
import { networkpolicies } from './networking/networkpolicies.ts';
import { clusterrolebindings, clusterroles, rolebindings, roles } from './rbac/rbac.ts';
import { horizontalpodautoscalers } from './autoscaling/horizontalpodautoscalers.ts';
import { poddisruptionbudgets } from './policy/poddisruptionbudgets.ts';
import { endpointslices } from './discovery/endpointslices.ts';
import { leases } from './coordination/leases.ts';
import { storageclasses } from './storage/storageclasses.ts';
import { priorityclasses } from './scheduling/priorityclasses.ts';
import { customresourcedefinitions } from './apiextensions/customresourcedefinitions.ts';
import { apiservices } from './apiregistration/apiservices.ts';
import { mutatingwebhookconfigurations, validatingwebhookconfigurations } from './admissionregistration/webhookconfigurations.ts';
import { localsubjectaccessreviews, selfsubjectaccessreviews, selfsubjectrulesreviews, subjectaccessreviews } from './authorization/reviews.ts';
import { selfsubjectreviews, tokenreviews } from './authentication/reviews.ts';
import { certificatesigningrequests } from './certificates/certificatesigningrequests.ts';

export function builtinStrategies(): ResourceStrategy[] {
  return [
    configmaps,
    endpoints,
    events,
    limitranges,
    namespaces,
    nodes,
    persistentvolumeclaims,
    persistentvolumes,
    pods,
    podtemplates,
    replicationcontrollers,
    resourcequotas,
    secrets,
    serviceaccounts,
    services,
    customresourcedefinitions,
    apiservices,
    mutatingwebhookconfigurations,
    validatingwebhookconfigurations,
    certificatesigningrequests,
    controllerrevisions,
    daemonsets,
    deployments,
    replicasets,
    statefulsets,
    selfsubjectreviews,
    tokenreviews,
    localsubjectaccessreviews,
    selfsubjectaccessreviews,
    selfsubjectrulesreviews,
    subjectaccessreviews,
    horizontalpodautoscalers,
    cronjobs,
    jobs,
    leases,
    endpointslices,
    ingressclasses,
    ingresses,
    networkpolicies,
    poddisruptionbudgets,
    clusterrolebindings,
    clusterroles,
    rolebindings,
    roles,
    priorityclasses,
    storageclasses,
  ];
}
