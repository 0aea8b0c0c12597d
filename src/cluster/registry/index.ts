// Public face of the registry: the generic store plus one strategy per resource. The apiserver,
// admission, controllers and kubelet use only what is exported here; the registry's own modules
// import its types from interface.ts, never from here.
import { ClusterRegistry } from './store.ts';
import type { Registry, RegistryOptions } from './interface.ts';

export type {
  SubresourceDefinition,
  PrinterColumn,
  ResourceDefinition,
  ListOptions,
  ListResult,
  UserInfo,
  WriteOptions,
  DeleteOptions,
  WatchEventType,
  WatchEvent,
  WatchOptions,
  Watch,
  Registry,
  UpdateOptions,
  AdmissionOperation,
  AdmissionRequest,
  AdmissionPlugin,
  RegistryLogger,
  RegistryOptions,
  StorageLimits,
} from './interface.ts';

export function openRegistry(options: RegistryOptions = {}): Promise<Registry> {
  return ClusterRegistry.open(options);
}

export { Quantity, QuantityParseError, tryParseQuantity, parseQuantity, toResourceList, resourceListToJSON, addResourceLists, QUANTITY_PATTERN_MESSAGE } from './quantity.ts';
export type { QuantityFormat, ResourceList } from './quantity.ts';
export { parseLabelSelector, labelSelectorFromObject, parseFieldSelector } from './selectors.ts';
export type { LabelSelector, FieldSelector } from './selectors.ts';
export { fieldError, invalidObject, errorBody } from './validation.ts';
export type { FieldError, FieldErrorType } from './validation.ts';
export { podUsage, objectUsage, quotaUsage, quotaMatchesPod, computeResourcesOf } from './quota.ts';
export { generateName } from './meta.ts';
export { parseCertificateRequest, RequestError as CertificateRequestError } from './resources/certificates/request.ts';
export { eventsV1ToEvent } from './resources/core/events.ts';
export { DEFAULT_NAMESPACE_BYTES, MAX_OBJECT_BYTES } from './storage-limits.ts';
