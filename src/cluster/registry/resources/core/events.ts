// core/v1 Events, with the involvedObject.* field selectors `kubectl describe` uses.
import type { KubeObject } from '../../../types.ts';
import { asNumber, asObject, asString } from '../../fields.ts';
import { defineResource, type ResourceStrategy } from '../../strategy.ts';
import { type FieldError, fieldError } from '../../validation.ts';

const involved = (field: string) => (event: KubeObject) => {
  const value = asObject(event.involvedObject)?.[field];
  return value === undefined ? undefined : String(value);
};

function validateEvent(event: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const involvedObject = asObject(event.involvedObject) ?? {};
  const ns = asString(involvedObject.namespace);
  if (ns && ns !== event.metadata.namespace) errs.push(fieldError.invalid('involvedObject.namespace', ns, 'does not match event.namespace'));
  const type = event.type;
  if (type !== undefined && type !== 'Normal' && type !== 'Warning') errs.push(fieldError.notSupported('type', type, ['Normal', 'Warning']));
  const count = event.count;
  if (count !== undefined && (asNumber(count) ?? -1) < 0) errs.push(fieldError.invalid('count', count, 'must be greater than or equal to 0'));
  return errs;
}

export const events: ResourceStrategy = {
  definition: defineResource({
    group: '',
    version: 'v1',
    resource: 'events',
    kind: 'Event',
    namespaced: true,
    shortNames: ['ev'],
    fieldSelectors: {
      'involvedObject.kind': involved('kind'),
      'involvedObject.namespace': involved('namespace'),
      'involvedObject.name': involved('name'),
      'involvedObject.uid': involved('uid'),
      'involvedObject.apiVersion': involved('apiVersion'),
      'involvedObject.resourceVersion': involved('resourceVersion'),
      'involvedObject.fieldPath': involved('fieldPath'),
      reason: (e) => asString(e.reason),
      reportingComponent: (e) => asString(e.reportingComponent),
      source: (e) => asString(asObject(e.source)?.component),
      type: (e) => asString(e.type),
    },
  }),
  allowCreateOnUpdate: true,
  validate: validateEvent,
  validateUpdate: validateEvent,
};
