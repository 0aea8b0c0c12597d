// Server-side Table output (meta.k8s.io/v1 Table): the columns and cells `kubectl get` prints,
// per resource, as the real API server produces them from pkg/printers/internalversion.
import type { KubeObject } from '../../types.ts';
import type { PrinterColumn } from '../../registry/index.ts';
import { apiServicePrinter, clusterRoleBindingPrinter, endpointSlicePrinter, horizontalPodAutoscalerPrinter, ingressClassPrinter, ingressPrinter, leasePrinter, networkPolicyPrinter, podDisruptionBudgetPrinter, roleBindingPrinter, storageClassPrinter, priorityClassPrinter, webhookConfigurationPrinter, certificateSigningRequestPrinter } from './apis.ts';
import {
  configMapPrinter,
  endpointsPrinter,
  eventPrinter,
  eventsV1Printer,
  namespacePrinter,
  nodePrinter,
  persistentVolumeClaimPrinter,
  persistentVolumePrinter,
  resourceQuotaPrinter,
  secretPrinter,
  serviceAccountPrinter,
  servicePrinter,
} from './core.ts';
import { customResourcePrinter, defaultPrinter, scalePrinter } from './generic.ts';
import { JsonPathError } from '../../../jsonpath/index.ts';
import type { Printer, TableColumnDefinition, TableRowCondition, TableCell } from './printer.ts';
import { controllerRevisionPrinter, cronJobPrinter, daemonSetPrinter, deploymentPrinter, jobPrinter, podPrinter, podTemplatePrinter, replicaSetPrinter, replicationControllerPrinter, statefulSetPrinter } from './workloads.ts';

export type { TableColumnDefinition, TableRowCondition, TableCell } from './printer.ts';
export { humanDuration } from './format.ts';
export { podSummary } from './workloads.ts';

export type IncludeObject = 'None' | 'Object' | 'Metadata';

export interface PartialObjectMetadata {
  kind: 'PartialObjectMetadata';
  apiVersion: 'meta.k8s.io/v1';
  metadata: KubeObject['metadata'];
}

export interface TableRow {
  cells: TableCell[];
  conditions?: TableRowCondition[];
  /** absent with includeObject=None */
  object?: KubeObject | PartialObjectMetadata;
}

export interface Table {
  kind: 'Table';
  apiVersion: 'meta.k8s.io/v1';
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions: TableColumnDefinition[];
  rows: TableRow[];
}

export interface TableResource {
  group: string;
  resource: string;
  /** 'scale' renders autoscaling/v1 Scale objects (kubectl get --subresource=scale); 'status' prints as the resource */
  subresource?: string;
  /** present for resources a CustomResourceDefinition serves */
  crd?: { printerColumns?: PrinterColumn[] };
}

export interface TableOptions {
  /** what each row's `object` holds; kubectl asks for Object with --show-labels and -L. Default Metadata. */
  includeObject?: IncludeObject;
  /** the clock AGE and other durations are measured against */
  now: Date;
  resourceVersion?: string;
  continue?: string;
  remainingItemCount?: number;
  /** false for the second and later events of a watch, which carry rows only. Default true. */
  includeColumnDefinitions?: boolean;
}

const printers: Record<string, Printer> = {
  '/pods': podPrinter,
  '/services': servicePrinter,
  '/endpoints': endpointsPrinter,
  '/configmaps': configMapPrinter,
  '/secrets': secretPrinter,
  '/serviceaccounts': serviceAccountPrinter,
  '/namespaces': namespacePrinter,
  '/nodes': nodePrinter,
  '/events': eventPrinter,
  'events.k8s.io/events': eventsV1Printer,
  '/persistentvolumes': persistentVolumePrinter,
  '/persistentvolumeclaims': persistentVolumeClaimPrinter,
  '/resourcequotas': resourceQuotaPrinter,
  '/podtemplates': podTemplatePrinter,
  '/replicationcontrollers': replicationControllerPrinter,
  'apps/deployments': deploymentPrinter,
  'apps/replicasets': replicaSetPrinter,
  'apps/statefulsets': statefulSetPrinter,
  'apps/daemonsets': daemonSetPrinter,
  'apps/controllerrevisions': controllerRevisionPrinter,
  'batch/jobs': jobPrinter,
  'batch/cronjobs': cronJobPrinter,
  'networking.k8s.io/ingresses': ingressPrinter,
  'networking.k8s.io/ingressclasses': ingressClassPrinter,
  'networking.k8s.io/networkpolicies': networkPolicyPrinter,
  'discovery.k8s.io/endpointslices': endpointSlicePrinter,
  'rbac.authorization.k8s.io/rolebindings': roleBindingPrinter,
  'rbac.authorization.k8s.io/clusterrolebindings': clusterRoleBindingPrinter,
  'autoscaling/horizontalpodautoscalers': horizontalPodAutoscalerPrinter,
  'policy/poddisruptionbudgets': podDisruptionBudgetPrinter,
  'coordination.k8s.io/leases': leasePrinter,
  'storage.k8s.io/storageclasses': storageClassPrinter,
  'scheduling.k8s.io/priorityclasses': priorityClassPrinter,
  'apiregistration.k8s.io/apiservices': apiServicePrinter,
  'admissionregistration.k8s.io/validatingwebhookconfigurations': webhookConfigurationPrinter,
  'admissionregistration.k8s.io/mutatingwebhookconfigurations': webhookConfigurationPrinter,
  'certificates.k8s.io/certificatesigningrequests': certificateSigningRequestPrinter,
};

function printerFor(resource: TableResource): Printer {
  if (resource.subresource === 'scale') return scalePrinter;
  if (resource.crd) {
    try {
      return customResourcePrinter(resource.crd.printerColumns);
    } catch (error) {
      // A column the subset cannot evaluate must not take `kubectl get` down: serve NAME, CREATED AT.
      if (error instanceof JsonPathError) return defaultPrinter;
      throw error;
    }
  }
  return printers[`${resource.group}/${resource.resource}`] ?? defaultPrinter;
}

/** The column definitions a resource's Table carries (wide columns have priority 1). */
export function tableColumns(resource: TableResource): TableColumnDefinition[] {
  return printerFor(resource).columns;
}

function rowObject(object: KubeObject, includeObject: IncludeObject): TableRow['object'] {
  if (includeObject === 'None') return undefined;
  if (includeObject === 'Object') return object;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: object.metadata };
}

/** Renders objects of one resource as a meta.k8s.io/v1 Table, as `GET ...;as=Table;g=meta.k8s.io;v=v1` returns. */
export function toTable(resource: TableResource, objects: KubeObject[], options: TableOptions): Table {
  const printer = printerFor(resource);
  const includeObject = options.includeObject ?? 'Metadata';
  const metadata: Table['metadata'] = {};
  if (options.resourceVersion !== undefined) metadata.resourceVersion = options.resourceVersion;
  if (options.continue) metadata.continue = options.continue;
  if (options.remainingItemCount !== undefined) metadata.remainingItemCount = options.remainingItemCount;
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: options.includeColumnDefinitions === false ? [] : printer.columns,
    rows: objects.map((object) => {
      const printed = printer.print(object, options.now);
      const row: TableRow = { cells: printed.cells };
      if (printed.conditions) row.conditions = printed.conditions;
      const included = rowObject(object, includeObject);
      if (included) row.object = included;
      return row;
    }),
  };
}
