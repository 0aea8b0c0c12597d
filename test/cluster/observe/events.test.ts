// events.k8s.io/v1 over the core Events' storage: one object, two representations (regarding and
// note there, involvedObject and message here), the same table, and discovery of both.
import { describe, expect, it } from 'vitest';
import { EDGE_VERSIONS, useConformanceCluster } from '../conformance/harness.ts';

const c = useConformanceCluster({ kubelet: false });

describe('events.k8s.io/v1', () => {
  it.each(EDGE_VERSIONS)('serves an Event created there as a core Event, and a core Event there (kubectl %s)', async (version) => {
    const s = await c.sandbox('events');
    const created = await s.kubectl(version, ['create', '-f', '-'], {
      stdin: `apiVersion: events.k8s.io/v1
kind: Event
metadata: {name: web.restarted}
eventTime: "2026-01-02T03:04:05.000000Z"
reportingController: example.com/watcher
reportingInstance: watcher-1
action: Restart
reason: Restarted
type: Warning
note: the web pod restarted
regarding: {kind: Pod, name: web, namespace: ${s.namespace}}
`,
    });
    expect(created.stdout.trim()).toBe('event.events.k8s.io/web.restarted created');
    const core = JSON.parse(await s.must(['get', 'events', 'web.restarted', '-o', 'json']));
    expect(core).toMatchObject({
      apiVersion: 'v1',
      kind: 'Event',
      involvedObject: { kind: 'Pod', name: 'web', namespace: s.namespace },
      message: 'the web pod restarted',
      reportingComponent: 'example.com/watcher',
      reportingInstance: 'watcher-1',
      action: 'Restart',
      eventTime: '2026-01-02T03:04:05.000000Z',
    });
    expect(core.note).toBeUndefined();

    await s.must(['create', '-f', '-'], {
      stdin: `apiVersion: v1
kind: Event
metadata: {name: db.pulled}
involvedObject: {kind: Pod, name: db, namespace: ${s.namespace}}
reason: Pulled
message: pulled the image
type: Normal
count: 3
source: {component: kubelet, host: node-1}
firstTimestamp: "2026-01-02T03:00:00Z"
lastTimestamp: "2026-01-02T03:04:00Z"
`,
    });
    const v1 = JSON.parse(await s.must(['get', 'events.v1.events.k8s.io', 'db.pulled', '-o', 'json']));
    expect(v1).toEqual({
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: expect.objectContaining({ name: 'db.pulled', namespace: s.namespace }),
      eventTime: null,
      reason: 'Pulled',
      regarding: { kind: 'Pod', name: 'db', namespace: s.namespace },
      note: 'pulled the image',
      type: 'Normal',
      deprecatedSource: { component: 'kubelet', host: 'node-1' },
      deprecatedFirstTimestamp: '2026-01-02T03:00:00Z',
      deprecatedLastTimestamp: '2026-01-02T03:04:00Z',
      deprecatedCount: 3,
    });
    // Both lists see both events: one storage.
    const names = JSON.parse(await s.must(['get', 'events.events.k8s.io', '-o', 'json'])).items.map((e: { metadata: { name: string } }) => e.metadata.name);
    expect(names.sort()).toEqual(['db.pulled', 'web.restarted']);
    const table = (await s.kubectl(version, ['get', 'events.events.k8s.io', '--field-selector', 'reason=Pulled'])).stdout.trim().split('\n');
    expect(table[0]).toMatch(/^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$/);
    expect(table[1]).toMatch(/\s+Normal\s+Pulled\s+pod\/db\s+pulled the image$/);
  });

  it('is discovered beside the core Events', async () => {
    const rows = (await c.kubectl('1.33', ['api-resources', '--no-headers'])).stdout.split('\n').filter((line) => /^events\s/.test(line));
    expect(rows.map((line) => line.split(/\s+/).slice(0, 5).join(' '))).toEqual(['events ev v1 true Event', 'events ev events.k8s.io/v1 true Event']);
  });

  it('holds writes through events.k8s.io/v1 to its stricter rules, with upstream\'s field paths', async () => {
    const s = await c.sandbox('events-strict');
    const missing = await s.kubectl('1.33', ['create', '-f', '-'], {
      stdin: `apiVersion: events.k8s.io/v1\nkind: Event\nmetadata: {name: bare}\nreason: Poked\ntype: Sideways\ndeprecatedCount: 2\nregarding: {kind: Pod, name: web, namespace: ${s.namespace}}\n`,
    });
    expect(missing.stderr.trim()).toBe(
      'The Event "bare" is invalid: \n* type: Unsupported value: "Sideways": supported values: "Normal", "Warning"\n* eventTime: Required value\n* type: Invalid value: "": has invalid value: Sideways\n* count: Invalid value: "": needs to be unset',
    );
    // The same fields through core/v1 are an old-style event, and fine.
    await s.must(['create', '-f', '-'], { stdin: `apiVersion: v1\nkind: Event\nmetadata: {name: old-style}\nreason: Poked\ntype: Normal\ncount: 2\ninvolvedObject: {kind: Pod, name: web, namespace: ${s.namespace}}\n` });
    const newStyle = await s.kubectl('1.33', ['create', '-f', '-'], {
      stdin: `apiVersion: v1\nkind: Event\nmetadata: {name: half-new}\nreason: Poked\ntype: Normal\neventTime: "2026-01-02T03:04:05.000000Z"\ninvolvedObject: {kind: Pod, name: web, namespace: ${s.namespace}}\n`,
    });
    // As upstream, the empty controller name is also run through IsQualifiedName.
    expect(newStyle.stderr.trim()).toBe(
      [
        'The Event "half-new" is invalid: ',
        '* reportingController: Required value',
        '* reportingController: Invalid value: "": name part must be non-empty',
        `* reportingController: Invalid value: "": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')`,
        '* reportingInstance: Required value',
        '* action: Required value',
      ].join('\n'),
    );
  });
});
