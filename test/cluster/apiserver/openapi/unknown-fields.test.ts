// Which fields strict field validation reports, as the API server's strict decoding names them.
import { describe, expect, test } from 'vitest';
import { findUnknownFields } from '../../../../src/cluster/apiserver/openapi/index.ts';
import { cronTabSchema } from './served-resources.ts';

const deployment = { group: 'apps', version: 'v1', kind: 'Deployment' };

describe('findUnknownFields for built-in kinds', () => {
  test('a typo deep inside a pod template is reported with its list index', () => {
    const object = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', labels: { 'app.kubernetes.io/name': 'web' }, annotations: { note: 'x' } },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              { name: 'sidecar', image: 'busybox' },
              { name: 'web', imagee: 'nginx', ports: [{ containerPort: 80, protocl: 'TCP' }], resources: { limits: { cpu: '1' } } },
            ],
          },
        },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%' } },
      },
    };
    expect(findUnknownFields(object, deployment)).toEqual(['spec.template.spec.containers[1].imagee', 'spec.template.spec.containers[1].ports[0].protocl']);
  });

  test('metadata and status are checked too, and top-level strays are named bare', () => {
    const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', lables: { a: 'b' } }, data: { a: 'b' }, extra: true };
    expect(findUnknownFields(object, { group: '', version: 'v1', kind: 'ConfigMap' })).toEqual(['metadata.lables', 'extra']);
    expect(findUnknownFields({ status: { readyReplicas: 1, ready: 1 } }, deployment)).toEqual(['status.ready']);
  });

  test('fields whose type is open (RawExtension) accept anything', () => {
    const revision = { apiVersion: 'apps/v1', kind: 'ControllerRevision', metadata: { name: 'r' }, revision: 1, data: { anything: { goes: true } } };
    expect(findUnknownFields(revision, { group: 'apps', version: 'v1', kind: 'ControllerRevision' })).toEqual([]);
  });

  test('kinds with a client-node name prefix (core Event) are found', () => {
    expect(findUnknownFields({ involvedObject: { kind: 'Pod', nme: 'x' }, reason: 'Started' }, { group: '', version: 'v1', kind: 'Event' })).toEqual(['involvedObject.nme']);
  });

  test('a kind nothing describes has no unknown fields', () => {
    expect(findUnknownFields({ spec: { whatever: 1 } }, { group: 'example.com', version: 'v1', kind: 'Widget' })).toEqual([]);
  });
});

describe('findUnknownFields for custom resources', () => {
  const cronTab = { group: 'stable.example.com', version: 'v1', kind: 'CronTab' };

  test('fields outside the schema are reported; maps and preserved subtrees are open', () => {
    const object = {
      apiVersion: 'stable.example.com/v1',
      kind: 'CronTab',
      metadata: { name: 'c', namespace: 'default', labls: {} },
      spec: { cronSpec: '* * * * */5', imag: 'x', labels: { any: 'key' }, extra: { free: { form: 1 } }, tags: ['a'] },
      stat: {},
    };
    expect(findUnknownFields(object, cronTab, cronTabSchema)).toEqual(['metadata.labls', 'spec.imag', 'stat']);
  });

  test('a schema that preserves unknown fields at the root accepts everything', () => {
    expect(findUnknownFields({ spec: { a: 1 }, b: 2 }, cronTab, { type: 'object', 'x-kubernetes-preserve-unknown-fields': true })).toEqual([]);
  });

  test('array items and embedded resources are walked', () => {
    const schema = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            steps: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' } } } },
            template: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
          },
        },
      },
    };
    const object = { spec: { steps: [{ name: 'a' }, { nam: 'b' }], template: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', nam: 'q' }, spec: { anything: 1 }, oops: 1 } } };
    expect(findUnknownFields(object, cronTab, schema)).toEqual(['spec.steps[1].nam', 'spec.template.metadata.nam', 'spec.template.oops']);
  });
});
