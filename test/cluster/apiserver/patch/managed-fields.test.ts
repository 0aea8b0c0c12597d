import { describe, expect, it } from 'vitest';
import { updateManagedFields } from '../../../../src/cluster/apiserver/patch/index.ts';
import type { KubeObject, ManagedFieldsEntry } from '../../../../src/cluster/types.ts';

const t0 = new Date('2024-05-01T10:00:00.123Z');
const t1 = new Date('2024-05-01T10:05:00Z');
const t2 = new Date('2024-05-01T10:09:00Z');

function deployment(overrides: { labels?: Record<string, string>; replicas?: number; image?: string } = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: overrides.labels ?? { app: 'web' } },
    spec: {
      replicas: overrides.replicas ?? 2,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image: overrides.image ?? 'nginx:1.27', ports: [{ containerPort: 80 }], env: [{ name: 'A', value: '1' }] }] },
      },
    },
  };
}

function stored(object: KubeObject): KubeObject {
  return { ...object, metadata: { ...object.metadata, uid: 'u-1', resourceVersion: '7', creationTimestamp: '2024-05-01T10:00:00Z' } };
}

const update = (manager: string, now: Date, extra: { subresource?: string; resetFields?: string[][] } = {}) => ({ manager, operation: 'Update' as const, apiVersion: 'apps/v1', now, ...extra });

function entry(object: KubeObject, manager: string): ManagedFieldsEntry | undefined {
  return object.metadata.managedFields?.find((e) => e.manager === manager);
}

describe('updateManagedFields', () => {
  it('records what a create set, with "." for maps and list items the zero object lacks', () => {
    const created = updateManagedFields(undefined, deployment(), update('kubectl-create', t0));
    expect(created.metadata.managedFields).toEqual([
      {
        manager: 'kubectl-create',
        operation: 'Update',
        apiVersion: 'apps/v1',
        time: '2024-05-01T10:00:00Z',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
              'f:spec': {
                'f:containers': {
                  'k:{"name":"web"}': {
                    '.': {},
                    'f:env': { '.': {}, 'k:{"name":"A"}': { '.': {}, 'f:name': {}, 'f:value': {} } },
                    'f:image': {},
                    'f:name': {},
                    'f:ports': { '.': {}, 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
                  },
                },
              },
            },
          },
        },
      },
    ]);
  });

  it('keeps the JSON key order of FieldsV1 as upstream sorts it: fields, then keys', () => {
    const created = updateManagedFields(undefined, deployment(), update('kubectl-create', t0));
    const at = (node: unknown, key: string) => (node as Record<string, unknown>)[key];
    const container = ['f:spec', 'f:template', 'f:spec', 'f:containers', 'k:{"name":"web"}'].reduce<unknown>(at, entry(created, 'kubectl-create')!.fieldsV1);
    expect(container).toBeDefined();
    expect(Object.keys(container as object)).toEqual(['.', 'f:env', 'f:image', 'f:name', 'f:ports']);
  });

  it('gives a second manager only what it changed (kubectl label)', () => {
    const live = stored(updateManagedFields(undefined, deployment(), update('kubectl-create', t0)));
    const labelled = updateManagedFields(live, { ...live, metadata: { ...live.metadata, labels: { app: 'web', tier: 'fe' } } }, update('kubectl-label', t1));
    expect(labelled.metadata.managedFields!.map((e) => e.manager)).toEqual(['kubectl-create', 'kubectl-label']);
    expect(entry(labelled, 'kubectl-label')).toMatchObject({ time: '2024-05-01T10:05:00Z', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:tier': {} } } } });
    expect(entry(labelled, 'kubectl-create')).toEqual(entry(live, 'kubectl-create'));
  });

  it('moves ownership of a changed field to the manager that changed it', () => {
    const live = stored(updateManagedFields(undefined, deployment(), update('kubectl-create', t0)));
    const scaled = updateManagedFields(live, { ...live, spec: { ...(live.spec as object), replicas: 5 } }, update('kubectl-scale', t1));
    expect(entry(scaled, 'kubectl-scale')!.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
    expect((entry(scaled, 'kubectl-create')!.fieldsV1['f:spec'] as Record<string, unknown>)['f:replicas']).toBeUndefined();
  });

  it('merges a manager’s later changes into its entry and updates the time', () => {
    const live = stored(updateManagedFields(undefined, deployment(), update('kubectl-create', t0)));
    const first = stored(updateManagedFields(live, { ...live, metadata: { ...live.metadata, labels: { app: 'web', a: '1' } } }, update('kubectl-label', t1)));
    const second = updateManagedFields(first, { ...first, metadata: { ...first.metadata, labels: { app: 'web', a: '1', b: '2' } } }, update('kubectl-label', t2));
    expect(entry(second, 'kubectl-label')).toMatchObject({ time: '2024-05-01T10:09:00Z', fieldsV1: { 'f:metadata': { 'f:labels': { 'f:a': {}, 'f:b': {} } } } });
  });

  it('leaves managedFields alone for a write that changes nothing', () => {
    const live = stored(updateManagedFields(undefined, deployment(), update('kubectl-create', t0)));
    const same = updateManagedFields(live, structuredClone(live), update('kubectl-edit', t1));
    expect(same.metadata.managedFields).toEqual(live.metadata.managedFields);
  });

  it('removes a deleted field from its owner', () => {
    const live = stored(updateManagedFields(undefined, deployment({ labels: { app: 'web', tier: 'fe' } }), update('kubectl-create', t0)));
    const edited = updateManagedFields(live, { ...live, metadata: { ...live.metadata, labels: { app: 'web' } } }, update('kubectl-edit', t1));
    expect(entry(edited, 'kubectl-create')!.fieldsV1['f:metadata']).toEqual({ 'f:labels': { '.': {}, 'f:app': {} } });
    expect(entry(edited, 'kubectl-edit')).toBeUndefined();
  });

  it('keeps a separate entry per subresource and ignores managedFields sent to it', () => {
    const live = stored(updateManagedFields(undefined, deployment(), update('kubectl-create', t0)));
    const next = { ...live, metadata: { ...live.metadata, managedFields: [] }, status: { replicas: 2, readyReplicas: 2 } };
    const status = updateManagedFields(live, next, update('deployment-controller', t1, { subresource: 'status', resetFields: [['spec'], ['metadata', 'labels']] }));
    expect(entry(status, 'deployment-controller')).toMatchObject({ subresource: 'status', fieldsV1: { 'f:status': { 'f:readyReplicas': {}, 'f:replicas': {} } } });
    expect(entry(status, 'kubectl-create')).toEqual(entry(live, 'kubectl-create'));
  });

  it.each([[[]], [[{}]]])('strips managedFields entirely when a request sends %j, as upstream documents', (reset) => {
    const live = stored(updateManagedFields(undefined, deployment(), update('kubectl-create', t0)));
    const next = { ...live, metadata: { ...live.metadata, managedFields: reset as ManagedFieldsEntry[] }, spec: { ...(live.spec as object), replicas: 3 } };
    expect(updateManagedFields(live, next, update('kubectl-replace', t1)).metadata.managedFields).toBeUndefined();
  });

  it('takes managedFields from a replace body that carries them', () => {
    const live = stored(updateManagedFields(undefined, deployment(), update('kubectl-create', t0)));
    const [owned] = live.metadata.managedFields!;
    const replaced = updateManagedFields(live, { ...live, metadata: { ...live.metadata, managedFields: [{ ...owned!, manager: 'renamed' }] } }, update('kubectl-replace', t1));
    expect(replaced.metadata.managedFields!.map((e) => e.manager)).toEqual(['renamed']);
  });

  it('folds the oldest of more than ten update managers into ancient-changes', () => {
    let live = stored(updateManagedFields(undefined, deployment(), update('creator', t0)));
    for (let i = 1; i <= 11; i++) {
      const labels = { ...(live.metadata.labels ?? {}), [`l${i}`]: 'x' };
      live = stored(updateManagedFields(live, { ...live, metadata: { ...live.metadata, labels } }, update(`manager-${i}`, new Date(t0.getTime() + i * 60_000))));
    }
    const managers = live.metadata.managedFields!.map((e) => e.manager);
    expect(managers).toHaveLength(10);
    expect(managers).toContain('ancient-changes');
    expect(managers).not.toContain('creator');
    expect(managers).not.toContain('manager-1');
    expect(managers).toContain('manager-11');
  });

  it('leaves an object that was never tracked untracked', () => {
    const untracked = stored(deployment());
    const next = updateManagedFields(untracked, { ...untracked, spec: { ...(untracked.spec as object), replicas: 4 } }, update('kubectl-edit', t1));
    expect(next.metadata.managedFields).toBeUndefined();
  });

  it('uses "unknown" for a request without a field manager', () => {
    expect(updateManagedFields(undefined, deployment(), update('', t0)).metadata.managedFields![0]!.manager).toBe('unknown');
  });
});
