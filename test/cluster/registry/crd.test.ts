import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { openTestRegistry, statusOf, tempDir, type TestRegistry } from './helpers.ts';

let t: TestRegistry | undefined;
let dir: ReturnType<typeof tempDir> | undefined;
afterEach(async () => {
  await t?.registry.close();
  t = undefined;
  dir?.remove();
  dir = undefined;
});

function crontabCRD(overrides: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'crontabs.stable.example.com' },
    spec: {
      group: 'stable.example.com',
      scope: 'Namespaced',
      names: { plural: 'crontabs', singular: 'crontab', kind: 'CronTab', shortNames: ['ct'], categories: ['all'] },
      versions: [
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object', properties: { spec: { type: 'object', properties: { cronSpec: { type: 'string' }, replicas: { type: 'integer' } } } } } },
          subresources: { status: {}, scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' } },
          additionalPrinterColumns: [{ name: 'Spec', type: 'string', jsonPath: '.spec.cronSpec' }],
        },
        { name: 'v1beta1', served: true, storage: false, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } },
      ],
      ...overrides,
    },
  };
}

const cronTab = (name: string, apiVersion = 'stable.example.com/v1'): KubeObject => ({ apiVersion, kind: 'CronTab', metadata: { name }, spec: { cronSpec: '* * * * */5', replicas: 1 } });

describe('CustomResourceDefinitions', () => {
  it('establishes a CRD at once and serves its versions', async () => {
    t = await openTestRegistry();
    let changes = 0;
    t.registry.onResourcesChanged(() => changes++);
    const crds = t.def('apiextensions.k8s.io', 'v1', 'customresourcedefinitions');
    const crd = t.registry.create(crds, undefined, crontabCRD());
    const status = crd.status as { conditions: { type: string; status: string; reason: string }[]; acceptedNames: unknown; storedVersions: string[] };
    expect(status.conditions.map((c) => `${c.type}=${c.status}`)).toEqual(['NamesAccepted=True', 'Established=True']);
    expect(status.acceptedNames).toEqual({ plural: 'crontabs', singular: 'crontab', kind: 'CronTab', listKind: 'CronTabList', shortNames: ['ct'], categories: ['all'] });
    expect(status.storedVersions).toEqual(['v1']);
    expect(crd.metadata.finalizers).toEqual(['customresourcecleanup.apiextensions.k8s.io']);
    expect(changes).toBe(1);

    const v1 = t.registry.lookup('stable.example.com', 'v1', 'crontabs');
    expect(v1).toMatchObject({ kind: 'CronTab', listKind: 'CronTabList', singular: 'crontab', namespaced: true, shortNames: ['ct'], categories: ['all'] });
    expect(v1?.subresources.map((s) => s.name)).toEqual(['scale', 'status']);
    expect(v1?.crd?.printerColumns).toEqual([{ name: 'Spec', type: 'string', jsonPath: '.spec.cronSpec' }]);
    expect(v1?.crd?.schema).toMatchObject({ type: 'object' });
    expect(t.registry.lookupKind('stable.example.com', 'v1beta1', 'CronTab')).toBeTruthy();
    expect(t.registry.resources().filter((r) => r.group === 'stable.example.com').map((r) => r.version)).toEqual(['v1', 'v1beta1']);
  });

  it('stores custom objects with generation, a status subresource, scale and version conversion', async () => {
    t = await openTestRegistry();
    t.registry.create(t.def('apiextensions.k8s.io', 'v1', 'customresourcedefinitions'), undefined, crontabCRD());
    const v1 = t.def('stable.example.com', 'v1', 'crontabs');
    const created = t.registry.create(v1, 'default', { ...cronTab('nightly'), status: { replicas: 9 } });
    expect(created.metadata.generation).toBe(1);
    expect(created.status).toBeUndefined();
    const asBeta = t.registry.get(t.def('stable.example.com', 'v1beta1', 'crontabs'), 'default', 'nightly');
    expect(asBeta.apiVersion).toBe('stable.example.com/v1beta1');
    const withStatus = t.registry.update(v1, 'default', 'nightly', { ...structuredClone(created), status: { replicas: 1, selector: 'app=cron' } }, { subresource: 'status' });
    expect(withStatus.metadata.generation).toBe(1);
    expect(t.registry.getScale(v1, 'default', 'nightly')).toMatchObject({ spec: { replicas: 1 }, status: { replicas: 1, selector: 'app=cron' } });
    const scaled = t.registry.updateScale(v1, 'default', 'nightly', { apiVersion: 'autoscaling/v1', kind: 'Scale', metadata: { name: 'nightly' }, spec: { replicas: 4 } });
    expect(scaled.spec).toEqual({ replicas: 4 });
    expect(t.registry.get(v1, 'default', 'nightly').metadata.generation).toBe(2);
  });

  it('validates a CRD with the real field paths', async () => {
    t = await openTestRegistry();
    const crds = t.def('apiextensions.k8s.io', 'v1', 'customresourcedefinitions');
    const bad = crontabCRD({ group: 'example', scope: 'Galaxy' });
    bad.metadata.name = 'crontabs.example';
    const status = statusOf(() => t?.registry.create(crds, undefined, bad));
    expect(status.code).toBe(422);
    expect(status.message).toContain('spec.group: Invalid value: "example": should be a domain with at least one dot');
    expect(status.message).toContain('spec.scope: Unsupported value: "Galaxy": supported values: "Cluster", "Namespaced"');
    const noSchema = crontabCRD({ versions: [{ name: 'v1', served: true, storage: true }] });
    expect(statusOf(() => t?.registry.create(crds, undefined, noSchema)).message).toBe(
      'CustomResourceDefinition.apiextensions.k8s.io "crontabs.stable.example.com" is invalid: spec.versions[0].schema.openAPIV3Schema: Required value: schemas are required',
    );
    const protectedGroup = crontabCRD({ group: 'widgets.k8s.io' });
    protectedGroup.metadata.name = 'crontabs.widgets.k8s.io';
    expect(statusOf(() => t?.registry.create(crds, undefined, protectedGroup)).message).toContain(
      'metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval annotation "api-approved.kubernetes.io"',
    );
    const wrongName = crontabCRD();
    wrongName.metadata.name = 'tabs.stable.example.com';
    expect(statusOf(() => t?.registry.create(crds, undefined, wrongName)).message).toContain('metadata.name: Invalid value: "tabs.stable.example.com": must be spec.names.plural+"."+spec.group');
  });

  it('deleting a CRD deletes its objects and stops serving it', async () => {
    t = await openTestRegistry();
    const crds = t.def('apiextensions.k8s.io', 'v1', 'customresourcedefinitions');
    t.registry.create(crds, undefined, crontabCRD());
    const v1 = t.def('stable.example.com', 'v1', 'crontabs');
    t.registry.create(v1, 'default', cronTab('a'));
    t.registry.create(v1, 'kube-system', cronTab('b'));
    const deleted: string[] = [];
    let ended = false;
    t.registry.watch(v1, { resourceVersion: t.registry.currentResourceVersion(), onClose: () => (ended = true) }, (e) => deleted.push(`${e.type} ${e.object.metadata.name}`));
    let changes = 0;
    t.registry.onResourcesChanged(() => changes++);
    t.registry.delete(crds, undefined, 'crontabs.stable.example.com');
    expect(deleted).toEqual(['DELETED a', 'DELETED b']);
    expect(ended).toBe(true);
    expect(statusOf(() => t?.registry.get(crds, undefined, 'crontabs.stable.example.com')).code).toBe(404);
    expect(t.registry.lookup('stable.example.com', 'v1', 'crontabs')).toBeUndefined();
    expect(changes).toBeGreaterThanOrEqual(1);
    t.registry.create(crds, undefined, crontabCRD());
    expect(t.registry.list(t.def('stable.example.com', 'v1', 'crontabs'), {}).items).toEqual([]);
  });

  it('refuses names another resource of the group already uses', async () => {
    t = await openTestRegistry();
    const crds = t.def('apiextensions.k8s.io', 'v1', 'customresourcedefinitions');
    t.registry.create(crds, undefined, crontabCRD());
    const clash = crontabCRD({ names: { plural: 'tabs', kind: 'CronTab' } });
    clash.metadata.name = 'tabs.stable.example.com';
    const created = t.registry.create(crds, undefined, clash);
    const conditions = (created.status as { conditions: { type: string; status: string; message: string }[] }).conditions;
    expect(conditions[0]).toMatchObject({ type: 'NamesAccepted', status: 'False', message: '"CronTab" is already in use' });
    expect(t.registry.lookup('stable.example.com', 'v1', 'tabs')).toBeUndefined();
  });

  it('serves CRDs and their objects again after a restart', async () => {
    dir = tempDir();
    const first = await openTestRegistry({ dataDir: dir.path });
    first.registry.create(first.def('apiextensions.k8s.io', 'v1', 'customresourcedefinitions'), undefined, crontabCRD());
    first.registry.create(first.def('stable.example.com', 'v1', 'crontabs'), 'default', cronTab('kept'));
    await first.registry.close();
    t = await openTestRegistry({ dataDir: dir.path });
    expect(t.registry.get(t.def('stable.example.com', 'v1', 'crontabs'), 'default', 'kept').spec).toEqual({ cronSpec: '* * * * */5', replicas: 1 });
  });
});
