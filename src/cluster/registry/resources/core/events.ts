// core/v1 Events, with the involvedObject.* field selectors `kubectl describe` uses, and the same
// storage served as events.k8s.io/v1 (one storage, two representations, as upstream: the newer
// API renames involvedObject to regarding, message to note, and marks the old fields deprecated).
import type { KubeObject } from '../../../types.ts';
import { asObject, num, str } from '../../../json.ts';
import { deepEqual } from '../../fields.ts';
import { defineResource, type ResourceStrategy } from '../../strategy.ts';
import { type FieldError, fieldError, immutableField, isQualifiedName } from '../../validation.ts';

const involved = (field: string) => (event: KubeObject) => {
  const value = asObject(event.involvedObject)?.[field];
  return value === undefined ? undefined : String(value);
};

const LENGTH_LIMITS = { reportingInstance: 128, action: 128, reason: 128 } as const;
const NOTE_LENGTH_LIMIT = 1024;

const isSet = (value: unknown): boolean => value !== undefined && value !== null && value !== '';

/** legacyValidateEvent: what every Event must pass, whichever API wrote it. */
function validateEvent(event: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const involvedObject = asObject(event.involvedObject) ?? {};
  const involvedNamespace = str(involvedObject.namespace) ?? '';
  const namespace = event.metadata.namespace ?? '';
  if (!isSet(event.eventTime)) {
    // An old-style event: its namespace and its object's agree (an unnamespaced object's events live in default).
    const mismatch = involvedNamespace === '' ? namespace !== '' && namespace !== 'default' : namespace !== involvedNamespace;
    if (mismatch) errs.push(fieldError.invalid('involvedObject.namespace', involvedNamespace, 'does not match event.namespace'));
  } else {
    if (involvedNamespace === '' && namespace !== 'default' && namespace !== 'kube-system') errs.push(fieldError.invalid('involvedObject.namespace', involvedNamespace, 'does not match event.namespace'));
    const controller = str(event.reportingComponent) ?? '';
    if (controller === '') errs.push(fieldError.required('reportingController'));
    for (const problem of isQualifiedName(controller)) errs.push(fieldError.invalid('reportingController', controller, problem));
    for (const [field, limit] of Object.entries(LENGTH_LIMITS)) {
      const value = str(event[field]) ?? '';
      if (value === '') errs.push(fieldError.required(field));
      if (value.length > limit) errs.push(fieldError.invalid(field, '', `can have at most ${limit} characters`));
    }
    if ((str(event.message) ?? '').length > NOTE_LENGTH_LIMIT) errs.push(fieldError.invalid('message', '', `can have at most ${NOTE_LENGTH_LIMIT} characters`));
  }
  const type = event.type;
  if (type !== undefined && type !== 'Normal' && type !== 'Warning') errs.push(fieldError.notSupported('type', type, ['Normal', 'Warning']));
  const count = event.count;
  if (count !== undefined && (num(count) ?? -1) < 0) errs.push(fieldError.invalid('count', count, 'must be greater than or equal to 0'));
  return errs;
}

function validateSeries(event: KubeObject): FieldError[] {
  const series = asObject(event.series);
  if (!series) return [];
  const errs: FieldError[] = [];
  if ((num(series.count) ?? 0) < 2) errs.push(fieldError.invalid('series.count', '', 'should be at least 2'));
  if (!isSet(series.lastObservedTime)) errs.push(fieldError.required('series.lastObservedTime'));
  return errs;
}

/** ValidateEventCreate's strict part: an event written through events.k8s.io/v1 is a new-style event (paths name the core fields, as upstream's). */
function validateEventsV1Create(event: KubeObject): FieldError[] {
  const errs = validateSeries(event);
  if (!isSet(event.eventTime)) errs.push(fieldError.required('eventTime'));
  if (event.type !== 'Normal' && event.type !== 'Warning') errs.push(fieldError.invalid('type', '', `has invalid value: ${str(event.type) ?? ''}`));
  for (const field of ['firstTimestamp', 'lastTimestamp', 'count'] as const) if (isSet(event[field]) && event[field] !== 0) errs.push(fieldError.invalid(field, '', 'needs to be unset'));
  const source = asObject(event.source) ?? {};
  if (isSet(source.component) || isSet(source.host)) errs.push(fieldError.invalid('source', '', 'needs to be unset'));
  return errs;
}

/** ValidateEventUpdate's strict part: what an events.k8s.io/v1 update may not change. */
function validateEventsV1Update(event: KubeObject, old: KubeObject): FieldError[] {
  const errs = deepEqual(event.series, old.series) ? [] : validateSeries(event);
  const immutable = ['involvedObject', 'reason', 'message', 'source', 'firstTimestamp', 'lastTimestamp', 'count', 'reason', 'type', 'eventTime', 'action', 'related', 'reportingComponent', 'reportingInstance'];
  for (const field of immutable) errs.push(...immutableField(field === 'reportingComponent' ? 'reportingController' : field, event[field], old[field]));
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
      reason: (e) => str(e.reason),
      reportingComponent: (e) => str(e.reportingComponent),
      source: (e) => str(asObject(e.source)?.component),
      type: (e) => str(e.type),
    },
  }),
  alternateVersions: [{ group: 'events.k8s.io', version: 'v1', fromStorage: eventToEventsV1, toStorage: eventsV1ToEvent, validate: validateEventsV1Create, validateUpdate: validateEventsV1Update }],
  allowCreateOnUpdate: true,
  validate: validateEvent,
  validateUpdate: validateEvent,
};
