// Facts about upstream Kubernetes API types that client-node's generated models do not carry,
// read from the Go types of k8s.io/api, k8s.io/apimachinery and k8s.io/apiextensions-apiserver:
// which Go package each type lives in (OpenAPI names schemas after it, e.g.
// io.k8s.api.apps.v1.Deployment), the list and patch markers of fields (what
// x-kubernetes-patch-merge-key / -patch-strategy / -list-type / -list-map-keys / -map-type say),
// and which fields hold Quantities (client-node types them as plain strings).
// Later packages win where two packages name a model alike (meta.v1 Preconditions).

export interface FieldFacts {
  patchStrategy?: string;
  patchMergeKey?: string;
  listType?: string;
  listMapKeys?: readonly string[];
  mapType?: string;
  quantity?: boolean;
}

export const packages: Readonly<Record<string, readonly string[]>> = {
  'io.k8s.api.admissionregistration.v1': ['ApplyConfiguration', 'AuditAnnotation', 'ExpressionWarning', 'JSONPatch', 'MatchCondition', 'MatchResources', 'MutatingAdmissionPolicy', 'MutatingAdmissionPolicyBinding', 'MutatingAdmissionPolicyBindingList', 'MutatingAdmissionPolicyBindingSpec', 'MutatingAdmissionPolicyList', 'MutatingAdmissionPolicySpec', 'MutatingWebhook', 'MutatingWebhookConfiguration', 'MutatingWebhookConfigurationList', 'Mutation', 'NamedRuleWithOperations', 'ParamKind', 'ParamRef', 'RuleWithOperations', 'ServiceReference', 'TypeChecking', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'ValidatingAdmissionPolicyBindingList', 'ValidatingAdmissionPolicyBindingSpec', 'ValidatingAdmissionPolicyList', 'ValidatingAdmissionPolicySpec', 'ValidatingAdmissionPolicyStatus', 'ValidatingWebhook', 'ValidatingWebhookConfiguration', 'ValidatingWebhookConfigurationList', 'Validation', 'Variable', 'WebhookClientConfig'],
  'io.k8s.api.apps.v1': ['ControllerRevision', 'ControllerRevisionList', 'DaemonSet', 'DaemonSetCondition', 'DaemonSetList', 'DaemonSetSpec', 'DaemonSetStatus', 'DaemonSetUpdateStrategy', 'Deployment', 'DeploymentCondition', 'DeploymentList', 'DeploymentSpec', 'DeploymentStatus', 'DeploymentStrategy', 'ReplicaSet', 'ReplicaSetCondition', 'ReplicaSetList', 'ReplicaSetSpec', 'ReplicaSetStatus', 'RollingUpdateDaemonSet', 'RollingUpdateDeployment', 'RollingUpdateStatefulSetStrategy', 'StatefulSet', 'StatefulSetCondition', 'StatefulSetList', 'StatefulSetOrdinals', 'StatefulSetPersistentVolumeClaimRetentionPolicy', 'StatefulSetSpec', 'StatefulSetStatus', 'StatefulSetUpdateStrategy'],
  'io.k8s.api.authentication.v1': ['BoundObjectReference', 'SelfSubjectReview', 'SelfSubjectReviewStatus', 'TokenRequest', 'TokenRequestSpec', 'TokenRequestStatus', 'TokenReview', 'TokenReviewSpec', 'TokenReviewStatus', 'UserInfo'],
  'io.k8s.api.authorization.v1': ['FieldSelectorAttributes', 'LabelSelectorAttributes', 'LocalSubjectAccessReview', 'NonResourceAttributes', 'NonResourceRule', 'ResourceAttributes', 'ResourceRule', 'SelfSubjectAccessReview', 'SelfSubjectAccessReviewSpec', 'SelfSubjectRulesReview', 'SelfSubjectRulesReviewSpec', 'SubjectAccessReview', 'SubjectAccessReviewSpec', 'SubjectAccessReviewStatus', 'SubjectRulesReviewStatus'],
  'io.k8s.api.autoscaling.v1': ['CrossVersionObjectReference', 'HorizontalPodAutoscaler', 'HorizontalPodAutoscalerList', 'HorizontalPodAutoscalerSpec', 'HorizontalPodAutoscalerStatus', 'Scale', 'ScaleSpec', 'ScaleStatus'],
  'io.k8s.api.autoscaling.v2': ['ContainerResourceMetricSource', 'ContainerResourceMetricStatus', 'CrossVersionObjectReference', 'ExternalMetricSource', 'ExternalMetricStatus', 'HPAScalingPolicy', 'HPAScalingRules', 'HorizontalPodAutoscaler', 'HorizontalPodAutoscalerBehavior', 'HorizontalPodAutoscalerCondition', 'HorizontalPodAutoscalerList', 'HorizontalPodAutoscalerSpec', 'HorizontalPodAutoscalerStatus', 'MetricIdentifier', 'MetricSpec', 'MetricStatus', 'MetricTarget', 'MetricValueStatus', 'ObjectMetricSource', 'ObjectMetricStatus', 'PodsMetricSource', 'PodsMetricStatus', 'ResourceMetricSource', 'ResourceMetricStatus'],
  'io.k8s.api.batch.v1': ['CronJob', 'CronJobList', 'CronJobSpec', 'CronJobStatus', 'Job', 'JobCondition', 'JobList', 'JobSpec', 'JobStatus', 'JobTemplateSpec', 'PodFailurePolicy', 'PodFailurePolicyOnExitCodesRequirement', 'PodFailurePolicyOnPodConditionsPattern', 'PodFailurePolicyRule', 'SuccessPolicy', 'SuccessPolicyRule', 'UncountedTerminatedPods'],
  'io.k8s.api.certificates.v1': ['CertificateSigningRequest', 'CertificateSigningRequestCondition', 'CertificateSigningRequestList', 'CertificateSigningRequestSpec', 'CertificateSigningRequestStatus'],
  'io.k8s.api.coordination.v1': ['Lease', 'LeaseList', 'LeaseSpec'],
  'io.k8s.api.core.v1': ['AWSElasticBlockStoreVolumeSource', 'Affinity', 'AppArmorProfile', 'AttachedVolume', 'AzureDiskVolumeSource', 'AzureFilePersistentVolumeSource', 'AzureFileVolumeSource', 'Binding', 'CSIPersistentVolumeSource', 'CSIVolumeSource', 'Capabilities', 'CephFSPersistentVolumeSource', 'CephFSVolumeSource', 'CinderPersistentVolumeSource', 'CinderVolumeSource', 'ClientIPConfig', 'ClusterTrustBundleProjection', 'ComponentCondition', 'ComponentStatus', 'ComponentStatusList', 'ConfigMap', 'ConfigMapEnvSource', 'ConfigMapKeySelector', 'ConfigMapList', 'ConfigMapNodeConfigSource', 'ConfigMapProjection', 'ConfigMapVolumeSource', 'Container', 'ContainerExtendedResourceRequest', 'ContainerImage', 'ContainerPort', 'ContainerResizePolicy', 'ContainerRestartRule', 'ContainerRestartRuleOnExitCodes', 'ContainerState', 'ContainerStateRunning', 'ContainerStateTerminated', 'ContainerStateWaiting', 'ContainerStatus', 'ContainerUser', 'DaemonEndpoint', 'DownwardAPIProjection', 'DownwardAPIVolumeFile', 'DownwardAPIVolumeSource', 'EmptyDirVolumeSource', 'EndpointAddress', 'EndpointPort', 'EndpointSubset', 'Endpoints', 'EndpointsList', 'EnvFromSource', 'EnvVar', 'EnvVarSource', 'EphemeralContainer', 'EphemeralVolumeSource', 'Event', 'EventList', 'EventSeries', 'EventSource', 'ExecAction', 'FCVolumeSource', 'FileKeySelector', 'FlexPersistentVolumeSource', 'FlexVolumeSource', 'FlockerVolumeSource', 'GCEPersistentDiskVolumeSource', 'GRPCAction', 'GitRepoVolumeSource', 'GlusterfsPersistentVolumeSource', 'GlusterfsVolumeSource', 'HTTPGetAction', 'HTTPHeader', 'HostAlias', 'HostIP', 'HostPathVolumeSource', 'ISCSIPersistentVolumeSource', 'ISCSIVolumeSource', 'ImageVolumeSource', 'ImageVolumeStatus', 'KeyToPath', 'Lifecycle', 'LifecycleHandler', 'LimitRange', 'LimitRangeItem', 'LimitRangeList', 'LimitRangeSpec', 'LinuxContainerUser', 'LoadBalancerIngress', 'LoadBalancerStatus', 'LocalObjectReference', 'LocalVolumeSource', 'ModifyVolumeStatus', 'NFSVolumeSource', 'Namespace', 'NamespaceCondition', 'NamespaceList', 'NamespaceSpec', 'NamespaceStatus', 'Node', 'NodeAddress', 'NodeAffinity', 'NodeAllocatableResourceClaimStatus', 'NodeCondition', 'NodeConfigSource', 'NodeConfigStatus', 'NodeDaemonEndpoints', 'NodeFeatures', 'NodeList', 'NodeRuntimeHandler', 'NodeRuntimeHandlerFeatures', 'NodeSelector', 'NodeSelectorRequirement', 'NodeSelectorTerm', 'NodeSpec', 'NodeStatus', 'NodeSwapStatus', 'NodeSystemInfo', 'ObjectFieldSelector', 'ObjectReference', 'PersistentVolume', 'PersistentVolumeClaim', 'PersistentVolumeClaimCondition', 'PersistentVolumeClaimList', 'PersistentVolumeClaimSpec', 'PersistentVolumeClaimStatus', 'PersistentVolumeClaimTemplate', 'PersistentVolumeClaimVolumeSource', 'PersistentVolumeList', 'PersistentVolumeSpec', 'PersistentVolumeStatus', 'PhotonPersistentDiskVolumeSource', 'Pod', 'PodAffinity', 'PodAffinityTerm', 'PodAntiAffinity', 'PodCertificateProjection', 'PodCondition', 'PodDNSConfig', 'PodDNSConfigOption', 'PodExtendedResourceClaimStatus', 'PodIP', 'PodList', 'PodOS', 'PodReadinessGate', 'PodResourceClaim', 'PodResourceClaimStatus', 'PodSchedulingGate', 'PodSchedulingGroup', 'PodSecurityContext', 'PodSpec', 'PodStatus', 'PodTemplate', 'PodTemplateList', 'PodTemplateSpec', 'PortStatus', 'PortworxVolumeSource', 'Preconditions', 'PreferredSchedulingTerm', 'Probe', 'ProjectedVolumeSource', 'QuobyteVolumeSource', 'RBDPersistentVolumeSource', 'RBDVolumeSource', 'ReplicationController', 'ReplicationControllerCondition', 'ReplicationControllerList', 'ReplicationControllerSpec', 'ReplicationControllerStatus', 'ResourceClaim', 'ResourceFieldSelector', 'ResourceHealth', 'ResourceQuota', 'ResourceQuotaList', 'ResourceQuotaSpec', 'ResourceQuotaStatus', 'ResourceRequirements', 'ResourceStatus', 'SELinuxOptions', 'ScaleIOPersistentVolumeSource', 'ScaleIOVolumeSource', 'ScopeSelector', 'ScopedResourceSelectorRequirement', 'SeccompProfile', 'Secret', 'SecretEnvSource', 'SecretKeySelector', 'SecretList', 'SecretProjection', 'SecretReference', 'SecretVolumeSource', 'SecurityContext', 'Service', 'ServiceAccount', 'ServiceAccountList', 'ServiceAccountTokenProjection', 'ServiceList', 'ServicePort', 'ServiceSpec', 'ServiceStatus', 'SessionAffinityConfig', 'SleepAction', 'StorageOSPersistentVolumeSource', 'StorageOSVolumeSource', 'Sysctl', 'TCPSocketAction', 'Taint', 'Toleration', 'TopologySelectorLabelRequirement', 'TopologySelectorTerm', 'TopologySpreadConstraint', 'TypedLocalObjectReference', 'TypedObjectReference', 'Volume', 'VolumeDevice', 'VolumeMount', 'VolumeMountStatus', 'VolumeNodeAffinity', 'VolumeProjection', 'VolumeResourceRequirements', 'VolumeStatus', 'VsphereVirtualDiskVolumeSource', 'WeightedPodAffinityTerm', 'WindowsSecurityContextOptions'],
  'io.k8s.api.discovery.v1': ['Endpoint', 'EndpointConditions', 'EndpointHints', 'EndpointPort', 'EndpointSlice', 'EndpointSliceList', 'ForNode', 'ForZone'],
  'io.k8s.api.events.v1': ['Event', 'EventList', 'EventSeries'],
  'io.k8s.api.flowcontrol.v1': ['ExemptPriorityLevelConfiguration', 'FlowDistinguisherMethod', 'FlowSchema', 'FlowSchemaCondition', 'FlowSchemaList', 'FlowSchemaSpec', 'FlowSchemaStatus', 'GroupSubject', 'LimitResponse', 'LimitedPriorityLevelConfiguration', 'NonResourcePolicyRule', 'PolicyRulesWithSubjects', 'PriorityLevelConfiguration', 'PriorityLevelConfigurationCondition', 'PriorityLevelConfigurationList', 'PriorityLevelConfigurationReference', 'PriorityLevelConfigurationSpec', 'PriorityLevelConfigurationStatus', 'QueuingConfiguration', 'ResourcePolicyRule', 'ServiceAccountSubject', 'Subject', 'UserSubject'],
  'io.k8s.api.networking.v1': ['HTTPIngressPath', 'HTTPIngressRuleValue', 'IPAddress', 'IPAddressList', 'IPAddressSpec', 'IPBlock', 'Ingress', 'IngressBackend', 'IngressClass', 'IngressClassList', 'IngressClassParametersReference', 'IngressClassSpec', 'IngressList', 'IngressLoadBalancerIngress', 'IngressLoadBalancerStatus', 'IngressPortStatus', 'IngressRule', 'IngressServiceBackend', 'IngressSpec', 'IngressStatus', 'IngressTLS', 'NetworkPolicy', 'NetworkPolicyEgressRule', 'NetworkPolicyIngressRule', 'NetworkPolicyList', 'NetworkPolicyPeer', 'NetworkPolicyPort', 'NetworkPolicySpec', 'ParentReference', 'ServiceBackendPort', 'ServiceCIDR', 'ServiceCIDRList', 'ServiceCIDRSpec', 'ServiceCIDRStatus'],
  'io.k8s.api.node.v1': ['Overhead', 'RuntimeClass', 'RuntimeClassList', 'Scheduling'],
  'io.k8s.api.policy.v1': ['Eviction', 'PodDisruptionBudget', 'PodDisruptionBudgetList', 'PodDisruptionBudgetSpec', 'PodDisruptionBudgetStatus'],
  'io.k8s.api.rbac.v1': ['AggregationRule', 'ClusterRole', 'ClusterRoleBinding', 'ClusterRoleBindingList', 'ClusterRoleList', 'PolicyRule', 'Role', 'RoleBinding', 'RoleBindingList', 'RoleList', 'RoleRef', 'Subject'],
  'io.k8s.api.resource.v1': ['AllocatedDeviceStatus', 'AllocationResult', 'CELDeviceSelector', 'CapacityRequestPolicy', 'CapacityRequestPolicyRange', 'CapacityRequirements', 'Counter', 'CounterSet', 'Device', 'DeviceAllocationConfiguration', 'DeviceAllocationResult', 'DeviceAttribute', 'DeviceCapacity', 'DeviceClaim', 'DeviceClaimConfiguration', 'DeviceClass', 'DeviceClassConfiguration', 'DeviceClassList', 'DeviceClassSpec', 'DeviceConstraint', 'DeviceCounterConsumption', 'DeviceRequest', 'DeviceRequestAllocationResult', 'DeviceSelector', 'DeviceSubRequest', 'DeviceTaint', 'DeviceToleration', 'ExactDeviceRequest', 'NetworkDeviceData', 'OpaqueDeviceConfiguration', 'ResourceClaim', 'ResourceClaimConsumerReference', 'ResourceClaimList', 'ResourceClaimSpec', 'ResourceClaimStatus', 'ResourceClaimTemplate', 'ResourceClaimTemplateList', 'ResourceClaimTemplateSpec', 'ResourcePool', 'ResourceSlice', 'ResourceSliceList', 'ResourceSliceSpec'],
  'io.k8s.api.scheduling.v1': ['PriorityClass', 'PriorityClassList'],
  'io.k8s.api.storage.v1': ['CSIDriver', 'CSIDriverList', 'CSIDriverSpec', 'CSINode', 'CSINodeDriver', 'CSINodeList', 'CSINodeSpec', 'CSIStorageCapacity', 'CSIStorageCapacityList', 'StorageClass', 'StorageClassList', 'TokenRequest', 'VolumeAttachment', 'VolumeAttachmentList', 'VolumeAttachmentSource', 'VolumeAttachmentSpec', 'VolumeAttachmentStatus', 'VolumeAttributesClass', 'VolumeAttributesClassList', 'VolumeError', 'VolumeNodeResources'],
  'io.k8s.apimachinery.pkg.apis.meta.v1': ['APIGroup', 'APIGroupList', 'APIResource', 'APIResourceList', 'APIVersions', 'Condition', 'DeleteOptions', 'FieldSelectorRequirement', 'GroupResource', 'GroupVersionForDiscovery', 'LabelSelector', 'LabelSelectorRequirement', 'ListMeta', 'ManagedFieldsEntry', 'ObjectMeta', 'OwnerReference', 'Preconditions', 'ServerAddressByClientCIDR', 'ShardInfo', 'Status', 'StatusCause', 'StatusDetails', 'WatchEvent'],
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1': ['CustomResourceColumnDefinition', 'CustomResourceConversion', 'CustomResourceDefinition', 'CustomResourceDefinitionCondition', 'CustomResourceDefinitionList', 'CustomResourceDefinitionNames', 'CustomResourceDefinitionSpec', 'CustomResourceDefinitionStatus', 'CustomResourceDefinitionVersion', 'CustomResourceSubresourceScale', 'CustomResourceSubresources', 'CustomResourceValidation', 'ExternalDocumentation', 'JSONSchemaProps', 'SelectableField', 'ServiceReference', 'ValidationRule', 'WebhookClientConfig', 'WebhookConversion'],
};

/** Struct types that server-side apply and strategic merge treat as one value. */
export const atomicTypes: ReadonlySet<string> = new Set([
  'io.k8s.api.admissionregistration.v1.ParamKind',
  'io.k8s.api.admissionregistration.v1.Variable',
  'io.k8s.api.admissionregistration.v1.ParamRef',
  'io.k8s.api.admissionregistration.v1.MatchResources',
  'io.k8s.api.admissionregistration.v1.NamedRuleWithOperations',
  'io.k8s.api.autoscaling.v1.CrossVersionObjectReference',
  'io.k8s.api.core.v1.SecretReference',
  'io.k8s.api.core.v1.FileKeySelector',
  'io.k8s.api.core.v1.ObjectFieldSelector',
  'io.k8s.api.core.v1.ResourceFieldSelector',
  'io.k8s.api.core.v1.ConfigMapKeySelector',
  'io.k8s.api.core.v1.SecretKeySelector',
  'io.k8s.api.core.v1.NodeSelector',
  'io.k8s.api.core.v1.NodeSelectorTerm',
  'io.k8s.api.core.v1.TopologySelectorTerm',
  'io.k8s.api.core.v1.EndpointAddress',
  'io.k8s.api.core.v1.EndpointPort',
  'io.k8s.api.core.v1.ObjectReference',
  'io.k8s.api.core.v1.LocalObjectReference',
  'io.k8s.api.core.v1.TypedLocalObjectReference',
  'io.k8s.api.core.v1.ScopeSelector',
  'io.k8s.api.discovery.v1.EndpointPort',
  'io.k8s.api.networking.v1.ServiceBackendPort',
  'io.k8s.api.rbac.v1.Subject',
  'io.k8s.api.rbac.v1.RoleRef',
  'io.k8s.apimachinery.pkg.apis.meta.v1.OwnerReference',
  'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector',
]);

export const fields: Readonly<Record<string, Readonly<Record<string, FieldFacts>>>> = {
  'io.k8s.api.admissionregistration.v1.MatchResources': {
    resourceRules: { listType: 'atomic' },
    excludeResourceRules: { listType: 'atomic' },
  },
  'io.k8s.api.admissionregistration.v1.MutatingAdmissionPolicySpec': {
    variables: { listType: 'atomic' },
    mutations: { listType: 'atomic' },
    matchConditions: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
  },
  'io.k8s.api.admissionregistration.v1.MutatingWebhook': {
    rules: { listType: 'atomic' },
    admissionReviewVersions: { listType: 'atomic' },
    matchConditions: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
  },
  'io.k8s.api.admissionregistration.v1.MutatingWebhookConfiguration': {
    webhooks: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
  },
  'io.k8s.api.admissionregistration.v1.NamedRuleWithOperations': {
    resourceNames: { listType: 'atomic' },
    operations: { listType: 'atomic' },
    apiGroups: { listType: 'atomic' },
    apiVersions: { listType: 'atomic' },
    resources: { listType: 'atomic' },
  },
  'io.k8s.api.admissionregistration.v1.RuleWithOperations': {
    operations: { listType: 'atomic' },
    apiGroups: { listType: 'atomic' },
    apiVersions: { listType: 'atomic' },
    resources: { listType: 'atomic' },
  },
  'io.k8s.api.admissionregistration.v1.TypeChecking': {
    expressionWarnings: { listType: 'atomic' },
  },
  'io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyBindingSpec': {
    validationActions: { listType: 'set' },
  },
  'io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicySpec': {
    validations: { listType: 'atomic' },
    auditAnnotations: { listType: 'atomic' },
    matchConditions: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    variables: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
  },
  'io.k8s.api.admissionregistration.v1.ValidatingAdmissionPolicyStatus': {
    conditions: { listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.admissionregistration.v1.ValidatingWebhook': {
    rules: { listType: 'atomic' },
    admissionReviewVersions: { listType: 'atomic' },
    matchConditions: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
  },
  'io.k8s.api.admissionregistration.v1.ValidatingWebhookConfiguration': {
    webhooks: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
  },
  'io.k8s.api.apps.v1.DaemonSetStatus': {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.apps.v1.DeploymentSpec': {
    strategy: { patchStrategy: 'retainKeys' },
  },
  'io.k8s.api.apps.v1.DeploymentStatus': {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.apps.v1.ReplicaSetStatus': {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.apps.v1.StatefulSetSpec': {
    volumeClaimTemplates: { listType: 'atomic' },
  },
  'io.k8s.api.apps.v1.StatefulSetStatus': {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.authentication.v1.TokenRequestSpec': {
    audiences: { listType: 'atomic' },
  },
  'io.k8s.api.authentication.v1.TokenReviewSpec': {
    audiences: { listType: 'atomic' },
  },
  'io.k8s.api.authentication.v1.TokenReviewStatus': {
    audiences: { listType: 'atomic' },
  },
  'io.k8s.api.authentication.v1.UserInfo': {
    groups: { listType: 'atomic' },
  },
  'io.k8s.api.authorization.v1.FieldSelectorAttributes': {
    requirements: { listType: 'atomic' },
  },
  'io.k8s.api.authorization.v1.LabelSelectorAttributes': {
    requirements: { listType: 'atomic' },
  },
  'io.k8s.api.authorization.v1.NonResourceRule': {
    verbs: { listType: 'atomic' },
    nonResourceURLs: { listType: 'atomic' },
  },
  'io.k8s.api.authorization.v1.ResourceRule': {
    verbs: { listType: 'atomic' },
    apiGroups: { listType: 'atomic' },
    resources: { listType: 'atomic' },
    resourceNames: { listType: 'atomic' },
  },
  'io.k8s.api.authorization.v1.SubjectAccessReviewSpec': {
    groups: { listType: 'atomic' },
  },
  'io.k8s.api.authorization.v1.SubjectRulesReviewStatus': {
    resourceRules: { listType: 'atomic' },
    nonResourceRules: { listType: 'atomic' },
  },
  'io.k8s.api.autoscaling.v2.HPAScalingRules': {
    policies: { listType: 'atomic' },
    tolerance: { quantity: true },
  },
  'io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerSpec': {
    metrics: { listType: 'atomic' },
  },
  'io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus': {
    currentMetrics: { listType: 'atomic' },
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.autoscaling.v2.MetricTarget': {
    value: { quantity: true },
    averageValue: { quantity: true },
  },
  'io.k8s.api.autoscaling.v2.MetricValueStatus': {
    value: { quantity: true },
    averageValue: { quantity: true },
  },
  'io.k8s.api.batch.v1.CronJobStatus': {
    active: { listType: 'atomic' },
  },
  'io.k8s.api.batch.v1.JobStatus': {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'atomic' },
  },
  'io.k8s.api.batch.v1.PodFailurePolicy': {
    rules: { listType: 'atomic' },
  },
  'io.k8s.api.batch.v1.PodFailurePolicyOnExitCodesRequirement': {
    values: { listType: 'set' },
  },
  'io.k8s.api.batch.v1.PodFailurePolicyRule': {
    onPodConditions: { listType: 'atomic' },
  },
  'io.k8s.api.batch.v1.SuccessPolicy': {
    rules: { listType: 'atomic' },
  },
  'io.k8s.api.batch.v1.UncountedTerminatedPods': {
    succeeded: { listType: 'set' },
    failed: { listType: 'set' },
  },
  'io.k8s.api.certificates.v1.CertificateSigningRequestSpec': {
    usages: { listType: 'atomic' },
    groups: { listType: 'atomic' },
  },
  'io.k8s.api.certificates.v1.CertificateSigningRequestStatus': {
    conditions: { listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.core.v1.Capabilities': {
    add: { listType: 'atomic' },
    drop: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.CephFSPersistentVolumeSource': {
    monitors: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.CephFSVolumeSource': {
    monitors: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ComponentStatus': {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.core.v1.ConfigMapProjection': {
    items: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ConfigMapVolumeSource': {
    items: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.Container': {
    command: { listType: 'atomic' },
    args: { listType: 'atomic' },
    ports: { patchStrategy: 'merge', patchMergeKey: 'containerPort', listType: 'map', listMapKeys: ['containerPort', 'protocol'] },
    envFrom: { listType: 'atomic' },
    env: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    resizePolicy: { listType: 'atomic' },
    restartPolicyRules: { listType: 'atomic' },
    volumeMounts: { patchStrategy: 'merge', patchMergeKey: 'mountPath', listType: 'map', listMapKeys: ['mountPath'] },
    volumeDevices: { patchStrategy: 'merge', patchMergeKey: 'devicePath', listType: 'map', listMapKeys: ['devicePath'] },
  },
  'io.k8s.api.core.v1.ContainerImage': {
    names: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ContainerRestartRuleOnExitCodes': {
    values: { listType: 'set' },
  },
  'io.k8s.api.core.v1.ContainerStatus': {
    allocatedResources: { quantity: true },
    volumeMounts: { patchStrategy: 'merge', patchMergeKey: 'mountPath', listType: 'map', listMapKeys: ['mountPath'] },
    allocatedResourcesStatus: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
  },
  'io.k8s.api.core.v1.DownwardAPIProjection': {
    items: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.DownwardAPIVolumeSource': {
    items: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.EmptyDirVolumeSource': {
    sizeLimit: { quantity: true },
  },
  'io.k8s.api.core.v1.EndpointSubset': {
    addresses: { listType: 'atomic' },
    notReadyAddresses: { listType: 'atomic' },
    ports: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.Endpoints': {
    subsets: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.EphemeralContainer': {
    command: { listType: 'atomic' },
    args: { listType: 'atomic' },
    ports: { patchStrategy: 'merge', patchMergeKey: 'containerPort', listType: 'map', listMapKeys: ['containerPort', 'protocol'] },
    envFrom: { listType: 'atomic' },
    env: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    resizePolicy: { listType: 'atomic' },
    restartPolicyRules: { listType: 'atomic' },
    volumeMounts: { patchStrategy: 'merge', patchMergeKey: 'mountPath', listType: 'map', listMapKeys: ['mountPath'] },
    volumeDevices: { patchStrategy: 'merge', patchMergeKey: 'devicePath', listType: 'map', listMapKeys: ['devicePath'] },
  },
  'io.k8s.api.core.v1.ExecAction': {
    command: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.FCVolumeSource': {
    targetWWNs: { listType: 'atomic' },
    wwids: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.HTTPGetAction': {
    httpHeaders: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.HostAlias': {
    hostnames: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ISCSIPersistentVolumeSource': {
    portals: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ISCSIVolumeSource': {
    portals: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.LimitRangeItem': {
    max: { quantity: true },
    min: { quantity: true },
    default: { quantity: true },
    defaultRequest: { quantity: true },
    maxLimitRequestRatio: { quantity: true },
  },
  'io.k8s.api.core.v1.LimitRangeSpec': {
    limits: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.LinuxContainerUser': {
    supplementalGroups: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.LoadBalancerIngress': {
    ports: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.LoadBalancerStatus': {
    ingress: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.NamespaceSpec': {
    finalizers: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.NamespaceStatus': {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.core.v1.NodeAffinity': {
    preferredDuringSchedulingIgnoredDuringExecution: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.NodeAllocatableResourceClaimStatus': {
    containers: { listType: 'set' },
    mapping: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    overhead: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
  },
  'io.k8s.api.core.v1.NodeSelector': {
    nodeSelectorTerms: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.NodeSelectorRequirement': {
    values: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.NodeSelectorTerm': {
    matchExpressions: { listType: 'atomic' },
    matchFields: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.NodeSpec': {
    podCIDRs: { patchStrategy: 'merge', listType: 'set' },
    taints: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.NodeStatus': {
    capacity: { quantity: true },
    allocatable: { quantity: true },
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
    addresses: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
    images: { listType: 'atomic' },
    volumesInUse: { listType: 'atomic' },
    volumesAttached: { listType: 'atomic' },
    runtimeHandlers: { listType: 'atomic' },
    declaredFeatures: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.PersistentVolumeClaimSpec': {
    accessModes: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.PersistentVolumeClaimStatus': {
    accessModes: { listType: 'atomic' },
    capacity: { quantity: true },
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
    allocatedResources: { quantity: true },
    allocatedResourceStatuses: { mapType: 'granular' },
  },
  'io.k8s.api.core.v1.PersistentVolumeSpec': {
    capacity: { quantity: true },
    accessModes: { listType: 'atomic' },
    mountOptions: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.PodAffinity': {
    requiredDuringSchedulingIgnoredDuringExecution: { listType: 'atomic' },
    preferredDuringSchedulingIgnoredDuringExecution: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.PodAffinityTerm': {
    namespaces: { listType: 'atomic' },
    matchLabelKeys: { listType: 'atomic' },
    mismatchLabelKeys: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.PodAntiAffinity': {
    requiredDuringSchedulingIgnoredDuringExecution: { listType: 'atomic' },
    preferredDuringSchedulingIgnoredDuringExecution: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.PodDNSConfig': {
    nameservers: { listType: 'atomic' },
    searches: { listType: 'atomic' },
    options: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.PodExtendedResourceClaimStatus': {
    requestMappings: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.PodSecurityContext': {
    supplementalGroups: { listType: 'atomic' },
    sysctls: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.PodSpec': {
    volumes: { patchStrategy: 'merge,retainKeys', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    initContainers: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    containers: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    ephemeralContainers: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    nodeSelector: { mapType: 'atomic' },
    imagePullSecrets: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    tolerations: { listType: 'atomic' },
    hostAliases: { patchStrategy: 'merge', patchMergeKey: 'ip', listType: 'map', listMapKeys: ['ip'] },
    readinessGates: { listType: 'atomic' },
    overhead: { quantity: true },
    topologySpreadConstraints: { patchStrategy: 'merge', patchMergeKey: 'topologyKey', listType: 'map', listMapKeys: ['topologyKey', 'whenUnsatisfiable'] },
    schedulingGates: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    resourceClaims: { patchStrategy: 'merge,retainKeys', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    evictionResponders: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
  },
  'io.k8s.api.core.v1.PodStatus': {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
    hostIPs: { patchStrategy: 'merge', patchMergeKey: 'ip', listType: 'atomic' },
    podIPs: { patchStrategy: 'merge', patchMergeKey: 'ip', listType: 'map', listMapKeys: ['ip'] },
    initContainerStatuses: { listType: 'atomic' },
    containerStatuses: { listType: 'atomic' },
    ephemeralContainerStatuses: { listType: 'atomic' },
    resourceClaimStatuses: { patchStrategy: 'merge,retainKeys', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    allocatedResources: { quantity: true },
    nodeAllocatableResourceClaimStatuses: { patchStrategy: 'merge', patchMergeKey: 'resourceClaimName', listType: 'map', listMapKeys: ['resourceClaimName'] },
    volumeHealth: { listType: 'map', listMapKeys: ['name'] },
  },
  'io.k8s.api.core.v1.ProjectedVolumeSource': {
    sources: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.RBDPersistentVolumeSource': {
    monitors: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.RBDVolumeSource': {
    monitors: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ReplicationControllerSpec': {
    selector: { mapType: 'atomic' },
  },
  'io.k8s.api.core.v1.ReplicationControllerStatus': {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.core.v1.ResourceFieldSelector': {
    divisor: { quantity: true },
  },
  'io.k8s.api.core.v1.ResourceQuotaSpec': {
    hard: { quantity: true },
    scopes: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ResourceQuotaStatus': {
    hard: { quantity: true },
    used: { quantity: true },
  },
  'io.k8s.api.core.v1.ResourceRequirements': {
    limits: { quantity: true },
    requests: { quantity: true },
    claims: { listType: 'map', listMapKeys: ['name'] },
  },
  'io.k8s.api.core.v1.ResourceStatus': {
    resources: { listType: 'map', listMapKeys: ['resourceID'] },
  },
  'io.k8s.api.core.v1.ScopeSelector': {
    matchExpressions: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ScopedResourceSelectorRequirement': {
    values: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.SecretProjection': {
    items: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.SecretVolumeSource': {
    items: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ServiceAccount': {
    secrets: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
    imagePullSecrets: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ServiceSpec': {
    ports: { patchStrategy: 'merge', patchMergeKey: 'port', listType: 'map', listMapKeys: ['port', 'protocol'] },
    selector: { mapType: 'atomic' },
    clusterIPs: { listType: 'atomic' },
    externalIPs: { listType: 'atomic' },
    loadBalancerSourceRanges: { listType: 'atomic' },
    ipFamilies: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.ServiceStatus': {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.core.v1.TopologySelectorLabelRequirement': {
    values: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.TopologySelectorTerm': {
    matchLabelExpressions: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.TopologySpreadConstraint': {
    matchLabelKeys: { listType: 'atomic' },
  },
  'io.k8s.api.core.v1.VolumeMount': {
    bindMountOptions: { listType: 'set' },
  },
  'io.k8s.api.core.v1.VolumeResourceRequirements': {
    limits: { quantity: true },
    requests: { quantity: true },
  },
  'io.k8s.api.discovery.v1.Endpoint': {
    addresses: { listType: 'set' },
  },
  'io.k8s.api.discovery.v1.EndpointHints': {
    forZones: { listType: 'atomic' },
    forNodes: { listType: 'atomic' },
  },
  'io.k8s.api.discovery.v1.EndpointSlice': {
    endpoints: { listType: 'atomic' },
    ports: { listType: 'atomic' },
  },
  'io.k8s.api.flowcontrol.v1.FlowSchemaSpec': {
    rules: { listType: 'atomic' },
  },
  'io.k8s.api.flowcontrol.v1.FlowSchemaStatus': {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.flowcontrol.v1.NonResourcePolicyRule': {
    verbs: { listType: 'set' },
    nonResourceURLs: { listType: 'set' },
  },
  'io.k8s.api.flowcontrol.v1.PolicyRulesWithSubjects': {
    subjects: { listType: 'atomic' },
    resourceRules: { listType: 'atomic' },
    nonResourceRules: { listType: 'atomic' },
  },
  'io.k8s.api.flowcontrol.v1.PriorityLevelConfigurationStatus': {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.flowcontrol.v1.ResourcePolicyRule': {
    verbs: { listType: 'set' },
    apiGroups: { listType: 'set' },
    resources: { listType: 'set' },
    namespaces: { listType: 'set' },
  },
  'io.k8s.api.networking.v1.HTTPIngressRuleValue': {
    paths: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.IPBlock': {
    except: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.IngressLoadBalancerIngress': {
    ports: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.IngressLoadBalancerStatus': {
    ingress: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.IngressSpec': {
    tls: { listType: 'atomic' },
    rules: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.IngressTLS': {
    hosts: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.NetworkPolicyEgressRule': {
    ports: { listType: 'atomic' },
    to: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.NetworkPolicyIngressRule': {
    ports: { listType: 'atomic' },
    from: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.NetworkPolicySpec': {
    ingress: { listType: 'atomic' },
    egress: { listType: 'atomic' },
    policyTypes: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.ServiceCIDRSpec': {
    cidrs: { listType: 'atomic' },
  },
  'io.k8s.api.networking.v1.ServiceCIDRStatus': {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.node.v1.Overhead': {
    podFixed: { quantity: true },
  },
  'io.k8s.api.node.v1.Scheduling': {
    nodeSelector: { mapType: 'atomic' },
    tolerations: { listType: 'atomic' },
  },
  'io.k8s.api.policy.v1.PodDisruptionBudgetSpec': {
    selector: { patchStrategy: 'replace' },
  },
  'io.k8s.api.policy.v1.PodDisruptionBudgetStatus': {
    conditions: { patchStrategy: 'merge', patchMergeKey: 'type', listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.rbac.v1.AggregationRule': {
    clusterRoleSelectors: { listType: 'atomic' },
  },
  'io.k8s.api.rbac.v1.ClusterRole': {
    rules: { listType: 'atomic' },
  },
  'io.k8s.api.rbac.v1.ClusterRoleBinding': {
    subjects: { listType: 'atomic' },
  },
  'io.k8s.api.rbac.v1.PolicyRule': {
    verbs: { listType: 'atomic' },
    apiGroups: { listType: 'atomic' },
    resources: { listType: 'atomic' },
    resourceNames: { listType: 'atomic' },
    nonResourceURLs: { listType: 'atomic' },
  },
  'io.k8s.api.rbac.v1.Role': {
    rules: { listType: 'atomic' },
  },
  'io.k8s.api.rbac.v1.RoleBinding': {
    subjects: { listType: 'atomic' },
  },
  'io.k8s.api.resource.v1.AllocatedDeviceStatus': {
    conditions: { listType: 'map', listMapKeys: ['type'] },
  },
  'io.k8s.api.resource.v1.CapacityRequestPolicy': {
    default: { quantity: true },
    validValues: { listType: 'atomic', quantity: true },
  },
  'io.k8s.api.resource.v1.CapacityRequestPolicyRange': {
    min: { quantity: true },
    max: { quantity: true },
    step: { quantity: true },
  },
  'io.k8s.api.resource.v1.CapacityRequirements': {
    requests: { quantity: true },
  },
  'io.k8s.api.resource.v1.Counter': {
    value: { quantity: true },
  },
  'io.k8s.api.resource.v1.Device': {
    consumesCounters: { listType: 'atomic' },
    taints: { listType: 'atomic' },
    bindingConditions: { listType: 'atomic' },
    bindingFailureConditions: { listType: 'atomic' },
  },
  'io.k8s.api.resource.v1.DeviceAllocationConfiguration': {
    requests: { listType: 'atomic' },
  },
  'io.k8s.api.resource.v1.DeviceAllocationResult': {
    results: { listType: 'atomic' },
    config: { listType: 'atomic' },
  },
  'io.k8s.api.resource.v1.DeviceAttribute': {
    ints: { listType: 'atomic' },
    bools: { listType: 'atomic' },
    strings: { listType: 'atomic' },
    versions: { listType: 'atomic' },
  },
  'io.k8s.api.resource.v1.DeviceCapacity': {
    value: { quantity: true },
  },
  'io.k8s.api.resource.v1.DeviceClaim': {
    requests: { listType: 'atomic' },
    constraints: { listType: 'atomic' },
    config: { listType: 'atomic' },
  },
  'io.k8s.api.resource.v1.DeviceClaimConfiguration': {
    requests: { listType: 'atomic' },
  },
  'io.k8s.api.resource.v1.DeviceClassSpec': {
    selectors: { listType: 'atomic' },
    config: { listType: 'atomic' },
  },
  'io.k8s.api.resource.v1.DeviceConstraint': {
    requests: { listType: 'atomic' },
  },
  'io.k8s.api.resource.v1.DeviceRequest': {
    firstAvailable: { listType: 'atomic' },
  },
  'io.k8s.api.resource.v1.DeviceRequestAllocationResult': {
    tolerations: { listType: 'atomic' },
    bindingConditions: { listType: 'atomic' },
    bindingFailureConditions: { listType: 'atomic' },
    consumedCapacity: { quantity: true },
    skipNodeOperations: { listType: 'set' },
  },
  'io.k8s.api.resource.v1.DeviceSubRequest': {
    selectors: { listType: 'atomic' },
    tolerations: { listType: 'atomic' },
  },
  'io.k8s.api.resource.v1.ExactDeviceRequest': {
    selectors: { listType: 'atomic' },
    tolerations: { listType: 'atomic' },
  },
  'io.k8s.api.resource.v1.NetworkDeviceData': {
    ips: { listType: 'atomic' },
  },
  'io.k8s.api.resource.v1.ResourceClaimStatus': {
    reservedFor: { patchStrategy: 'merge', patchMergeKey: 'uid', listType: 'map', listMapKeys: ['uid'] },
    devices: { listType: 'map', listMapKeys: ['driver', 'device', 'pool', 'shareID'] },
  },
  'io.k8s.api.resource.v1.ResourceSliceSpec': {
    devices: { listType: 'atomic' },
    sharedCounters: { listType: 'atomic' },
    skipNodeOperations: { listType: 'set' },
  },
  'io.k8s.api.storage.v1.CSIDriverSpec': {
    volumeLifecycleModes: { listType: 'set' },
    tokenRequests: { listType: 'atomic' },
  },
  'io.k8s.api.storage.v1.CSINodeDriver': {
    topologyKeys: { listType: 'atomic' },
  },
  'io.k8s.api.storage.v1.CSINodeSpec': {
    drivers: { patchStrategy: 'merge', patchMergeKey: 'name', listType: 'map', listMapKeys: ['name'] },
  },
  'io.k8s.api.storage.v1.CSIStorageCapacity': {
    capacity: { quantity: true },
    maximumVolumeSize: { quantity: true },
  },
  'io.k8s.api.storage.v1.StorageClass': {
    mountOptions: { listType: 'atomic' },
    allowedTopologies: { listType: 'atomic' },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.APIGroup': {
    versions: { listType: 'atomic' },
    serverAddressByClientCIDRs: { listType: 'atomic' },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.APIGroupList': {
    groups: { listType: 'atomic' },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.APIResource': {
    shortNames: { listType: 'atomic' },
    categories: { listType: 'atomic' },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.APIResourceList': {
    resources: { listType: 'atomic' },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.APIVersions': {
    versions: { listType: 'atomic' },
    serverAddressByClientCIDRs: { listType: 'atomic' },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions': {
    dryRun: { listType: 'atomic' },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.FieldSelectorRequirement': {
    values: { listType: 'atomic' },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector': {
    matchExpressions: { listType: 'atomic' },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement': {
    values: { listType: 'atomic' },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta': {
    ownerReferences: { patchStrategy: 'merge', patchMergeKey: 'uid', listType: 'map', listMapKeys: ['uid'] },
    finalizers: { patchStrategy: 'merge', listType: 'set' },
    managedFields: { listType: 'atomic' },
  },
  'io.k8s.apimachinery.pkg.apis.meta.v1.StatusDetails': {
    causes: { listType: 'atomic' },
  },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionNames': {
    shortNames: { listType: 'atomic' },
    categories: { listType: 'atomic' },
  },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionSpec': {
    versions: { listType: 'atomic' },
  },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionStatus': {
    conditions: { listType: 'map', listMapKeys: ['type'] },
    storedVersions: { listType: 'atomic' },
  },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionVersion': {
    additionalPrinterColumns: { listType: 'atomic' },
    selectableFields: { listType: 'atomic' },
  },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.JSONSchemaProps': {
    enum: { listType: 'atomic' },
    required: { listType: 'atomic' },
    allOf: { listType: 'atomic' },
    oneOf: { listType: 'atomic' },
    anyOf: { listType: 'atomic' },
    'x-kubernetes-list-map-keys': { listType: 'atomic' },
    'x-kubernetes-validations': { patchStrategy: 'merge', patchMergeKey: 'rule', listType: 'map', listMapKeys: ['rule'] },
  },
  'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.WebhookConversion': {
    conversionReviewVersions: { listType: 'atomic' },
  },
};
