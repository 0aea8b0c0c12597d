// core/v1 Events, with the involvedObject.* field selectors `kubectl describe` uses, and the same
// storage served as events.k8s.io/v1 (one storage, two representations, as upstream: the newer
// API renames involvedObject to regarding, message to note, and marks the old fields deprecated).
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

/** events.k8s.io/v1 field ← core/v1 field, in the order events.k8s.io/v1's Go struct writes them. */
const eventsV1Fields: ReadonlyArray<[string, string]> = [
  ['eventTime', 'eventTime'],
  ['series', 'series'],
  ['reportingController', 'reportingComponent'],
  ['reportingInstance', 'reportingInstance'],
  ['action', 'action'],
  ['reason', 'reason'],
  ['regarding', 'involvedObject'],
  ['related', 'related'],
  ['note', 'message'],
  ['type', 'type'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];

/** A core/v1 Event as events.k8s.io/v1 shows it (eventTime is written even when unset, as Go's struct has no omitempty there). */
export function eventToEventsV1(event: KubeObject): KubeObject {
  const converted: KubeObject = { kind: 'Event', apiVersion: 'events.k8s.io/v1', metadata: event.metadata, eventTime: event.eventTime ?? null };
  for (const [to, from] of eventsV1Fields) if (to !== 'eventTime' && event[from] !== undefined && event[from] !== '') converted[to] = event[from];
  return converted;
}

/** An events.k8s.io/v1 Event as core/v1 stores (and prints) it. */
export function eventsV1ToEvent(event: KubeObject): KubeObject {
  const converted: KubeObject = { kind: 'Event', apiVersion: 'v1', metadata: event.metadata };
  for (const [from, to] of eventsV1Fields) if (event[from] !== undefined && event[from] !== null) converted[to] = event[from];
  return converted;
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
  alternateVersions: [{ group: 'events.k8s.io', version: 'v1', fromStorage: eventToEventsV1, toStorage: eventsV1ToEvent }],
  allowCreateOnUpdate: true,
  validate: validateEvent,
  validateUpdate: validateEvent,
};
