import { describe, expect, it } from 'vitest';
import { applyConflictError, formatApplyConflicts, PatchError, serverSideApply, updateManagedFields, type ApplyConflict } from '../../../../src/cluster/apiserver/patch/index.ts';
import type { KubeObject } from '../../../../src/cluster/types.ts';

const t0 = new Date('2024-06-01T08:00:00Z');
const t1 = new Date('2024-06-01T08:01:00Z');
const t2 = new Date('2024-06-01T08:02:00Z');
const apps = { group: 'apps', version: 'v1', kind: 'Deployment' };

interface Config {
  replicas?: number;
  image?: string;
  labels?: Record<string, string>;
  env?: Array<{ name: string; value: string }>;
  containers?: Array<Record<string, unknown>>;
}

function config({ replicas = 2, image = 'nginx:1.27', labels = { app: 'web' }, env = [{ name: 'A', value: '1' }], containers }: Config = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: containers ?? [{ name: 'web', image, ports: [{ containerPort: 80 }], env }] },
      },
    },
  };
}

/** What the store adds on write. */
function stored(object: KubeObject): KubeObject {
  return { ...object, metadata: { ...object.metadata, namespace: 'default', uid: 'u-1', resourceVersion: '1', creationTimestamp: '2024-06-01T08:00:00Z' } };
}

function apply(live: KubeObject | undefined, applied: KubeObject, manager = 'kubectl', force = false, now = t1) {
  return serverSideApply(live, applied, { manager, force, ...apps, now });
}

function applied(live: KubeObject | undefined, body: KubeObject, manager = 'kubectl', force = false, now = t1): KubeObject {
  const result = apply(live, body, manager, force, now);
  expect(result.conflicts).toEqual([]);
  return stored(result.object);
}

const spec = (object: KubeObject) => object.spec as { replicas?: number; template: { spec: { containers: Array<Record<string, unknown>> } } };
const containers = (object: KubeObject) => spec(object).template.spec.containers;
const fields = (object: KubeObject, manager: string) => object.metadata.managedFields?.find((e) => e.manager === manager)?.fieldsV1;

describe('serverSideApply: create and merge', () => {
  it('creates a missing object and records the applier with operation Apply', () => {
    const { object, conflicts } = apply(undefined, config());
    expect(conflicts).toEqual([]);
    expect(object.spec).toEqual(config().spec);
    expect(object.metadata.managedFields).toEqual([
      {
        manager: 'kubectl',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        time: '2024-06-01T08:01:00Z',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': { 'f:labels': { 'f:app': {} } },
              'f:spec': {
                'f:containers': {
                  'k:{"name":"web"}': {
                    '.': {},
                    'f:env': { 'k:{"name":"A"}': { '.': {}, 'f:name': {}, 'f:value': {} } },
                    'f:image': {},
                    'f:name': {},
                    'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
                  },
                },
              },
            },
          },
        },
      },
    ]);
  });

  it('re-applying with a changed field updates it and the entry time', () => {
    const live = applied(undefined, config());
    const next = applied(live, config({ image: 'nginx:1.29' }), 'kubectl', false, t2);
    expect(containers(next)[0]!['image']).toBe('nginx:1.29');
    expect(next.metadata.managedFields![0]!.time).toBe('2024-06-01T08:02:00Z');
    expect(next.metadata.uid).toBe('u-1');
  });

  it('keeps fields nobody applied (defaults, other writers) when merging', () => {
    const live = applied(undefined, config());
    const defaulted = stored({ ...live, spec: { ...spec(live), revisionHistoryLimit: 10 } });
    const next = applied(defaulted, config({ replicas: 4 }));
    expect(spec(next)).toMatchObject({ replicas: 4, revisionHistoryLimit: 10 });
  });

  it('merges containers by name and keeps the live order, placing new ones as the applier lists them', () => {
    const two = [
      { name: 'a', image: 'a' },
      { name: 'b', image: 'b' },
      { name: 'c', image: 'c' },
    ];
    const other = serverSideApply(applied(undefined, config({ containers: two }), 'first'), config({ containers: [{ name: 'c', image: 'c2' }, { name: 'a', image: 'a' }] }), { manager: 'second', force: false, ...apps, now: t2 });
    expect(other.conflicts.map((c) => c.field)).toEqual(['.spec.template.spec.containers[name="c"].image']);
    const forced = serverSideApply(applied(undefined, config({ containers: two }), 'first'), config({ containers: [{ name: 'c', image: 'c2' }, { name: 'a', image: 'a' }] }), { manager: 'second', force: true, ...apps, now: t2 });
    expect(containers(forced.object).map((c) => `${c['name']}=${c['image']}`)).toEqual(['b=b', 'c=c2', 'a=a']);
  });

  it('applies an atomic list (args) as a whole and a set (finalizers) as a union', () => {
    const withArgs = (args: string[], finalizers: string[]) => ({ ...config({ containers: [{ name: 'web', image: 'x', args }] }), metadata: { name: 'web', finalizers } });
    const live = applied(undefined, withArgs(['-a', '-b'], ['example.com/one']), 'first');
    const next = applied(live, withArgs(['-c'], ['example.com/two']), 'second', true);
    expect(containers(next)[0]!['args']).toEqual(['-c']);
    expect(next.metadata.finalizers).toEqual(['example.com/one', 'example.com/two']);
    expect(fields(next, 'second')).toMatchObject({ 'f:metadata': { 'f:finalizers': { 'v:"example.com/two"': {} } } });
  });

  it('returns the live object unchanged (no managedFields churn) when nothing changes', () => {
    const live = applied(undefined, config());
    const again = apply(live, config(), 'kubectl', false, t2);
    expect(again.object.spec).toEqual(live.spec);
    expect(again.object.metadata.managedFields).toEqual(live.metadata.managedFields);
  });
});

describe('serverSideApply: removing fields the applier no longer applies', () => {
  it('removes a label, an env var and a container the applier dropped', () => {
    const live = applied(undefined, config({ labels: { app: 'web', tier: 'fe' }, env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] }));
    const next = applied(live, config({ env: [{ name: 'A', value: '1' }] }));
    expect(next.metadata.labels).toEqual({ app: 'web' });
    expect(containers(next)[0]!['env']).toEqual([{ name: 'A', value: '1' }]);

    const two = applied(live, config({ containers: [{ name: 'web', image: 'x' }, { name: 'log', image: 'y' }] }));
    const one = applied(two, config({ containers: [{ name: 'web', image: 'x' }] }));
    expect(containers(one).map((c) => c['name'])).toEqual(['web']);
  });

  it('removes a whole field (env) and drops an emptied labels map', () => {
    const live = applied(undefined, config());
    const next = applied(live, { ...config({ containers: [{ name: 'web', image: 'nginx:1.27' }] }), metadata: { name: 'web' } });
    expect(containers(next)[0]).toEqual({ name: 'web', image: 'nginx:1.27' });
    expect(next.metadata.labels).toBeUndefined();
  });

  it('keeps a field another manager also owns', () => {
    const live = applied(undefined, config({ labels: { app: 'web', tier: 'fe' } }));
    const relabelled = stored(updateManagedFields(live, { ...live, metadata: { ...live.metadata, labels: { app: 'web', tier: 'backend' } } }, { manager: 'kubectl-label', operation: 'Update', apiVersion: 'apps/v1', now: t1 }));
    const next = applied(relabelled, config({ labels: { app: 'web' } }), 'kubectl', false, t2);
    expect(next.metadata.labels).toEqual({ app: 'web', tier: 'backend' });
  });

  it('never removes fields the applier did not apply before (defaults stay)', () => {
    const live = stored({ ...applied(undefined, config()), status: { replicas: 2 } });
    const next = applied(live, config({ replicas: 3 }));
    expect(next['status']).toEqual({ replicas: 2 });
  });
});

describe('serverSideApply: conflicts', () => {
  const clientSideCreated = () => stored(updateManagedFields(undefined, config(), { manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'apps/v1', now: t0 }));

  it('reports a field another manager set to a different value, with upstream’s message', () => {
    const result = apply(clientSideCreated(), config({ replicas: 3 }), 'deployer');
    expect(result.conflicts).toEqual([{ field: '.spec.replicas', manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'apps/v1' }]);
    expect(result.object.spec).toEqual(clientSideCreated().spec);
    const error = applyConflictError(result.conflicts);
    expect(error).toBeInstanceOf(PatchError);
    expect(error.code).toBe(409);
    expect(error.status.reason).toBe('Conflict');
    expect(error.message).toBe('Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas');
    expect(error.status.details?.causes).toEqual([{ reason: 'FieldManagerConflict', message: 'conflict with "kubectl-client-side-apply" using apps/v1', field: '.spec.replicas' }]);
  });

  it('shares ownership instead of conflicting when the value is the same', () => {
    const next = applied(clientSideCreated(), config(), 'deployer');
    expect(fields(next, 'deployer')).toMatchObject({ 'f:spec': { 'f:replicas': {} } });
    expect(fields(next, 'kubectl-client-side-apply')).toMatchObject({ 'f:spec': { 'f:replicas': {} } });
  });

  it('force takes the field over from the other manager', () => {
    const next = applied(clientSideCreated(), config({ replicas: 3 }), 'deployer', true);
    expect(spec(next).replicas).toBe(3);
    expect((fields(next, 'kubectl-client-side-apply')!['f:spec'] as Record<string, unknown>)['f:replicas']).toBeUndefined();
  });

  it('names an applier without "using", and lists several conflicts by manager', () => {
    const live = applied(undefined, config(), 'team-a');
    const result = apply(live, config({ replicas: 5, image: 'nginx:1.29' }), 'team-b');
    expect(result.conflicts.map((c) => c.field)).toEqual(['.spec.replicas', '.spec.template.spec.containers[name="web"].image']);
    expect(formatApplyConflicts(result.conflicts)).toBe('Apply failed with 2 conflicts: conflicts with "team-a":\n- .spec.replicas\n- .spec.template.spec.containers[name="web"].image');
  });

  it('lets kubectl take over from its client-side apply where the last-applied configuration still holds', () => {
    const lastApplied = `${JSON.stringify(config())}\n`;
    const live = stored(
      updateManagedFields(undefined, { ...config(), metadata: { name: 'web', labels: { app: 'web' }, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': lastApplied } } }, { manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'apps/v1', now: t0 }),
    );
    const next = applied(live, config({ replicas: 3 }), 'kubectl');
    expect(spec(next).replicas).toBe(3);
    const annotation = next.metadata.annotations!['kubectl.kubernetes.io/last-applied-configuration']!;
    expect(JSON.parse(annotation)).toEqual(config({ replicas: 3 }));
    expect(annotation.endsWith('\n')).toBe(true);
  });

  it('still conflicts where someone else changed the field since the last client-side apply', () => {
    const lastApplied = JSON.stringify(config());
    const csa = stored(
      updateManagedFields(undefined, { ...config(), metadata: { name: 'web', labels: { app: 'web' }, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': lastApplied } } }, { manager: 'kubectl-client-side-apply', operation: 'Update', apiVersion: 'apps/v1', now: t0 }),
    );
    const scaled = stored(updateManagedFields(csa, { ...csa, spec: { ...spec(csa), replicas: 7 } }, { manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'apps/v1', now: t1 }));
    const result = apply(scaled, config({ replicas: 3 }), 'kubectl', false, t2);
    expect(formatApplyConflicts(result.conflicts)).toBe('Apply failed with 1 conflict: conflict with "kube-controller-manager" using apps/v1: .spec.replicas');
  });

  it('gives fields of an object that has no managedFields to before-first-apply', () => {
    const result = apply(stored(config()), config({ replicas: 9 }), 'deployer');
    expect(formatApplyConflicts(result.conflicts)).toBe('Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas');
  });

  it('prints a subresource owner as upstream does', () => {
    const conflicts: ApplyConflict[] = [{ field: '.status.replicas', manager: 'controller', operation: 'Update', apiVersion: 'apps/v1', subresource: 'status' }];
    expect(formatApplyConflicts(conflicts)).toBe('Apply failed with 1 conflict: conflict with "controller" with subresource "status" using apps/v1: .status.replicas');
  });
});

describe('serverSideApply: bad configurations', () => {
  function failure(run: () => unknown): PatchError {
    try {
      run();
    } catch (error) {
      if (error instanceof PatchError) return error;
      throw error;
    }
    throw new Error('expected a PatchError');
  }

  it('rejects a configuration of another version', () => {
    const error = failure(() => apply(undefined, { ...config(), apiVersion: 'apps/v1beta1' }));
    expect(error.code).toBe(400);
    expect(error.message).toBe('invalid object type: apps/v1beta1, Kind=Deployment');
  });

  it('rejects managedFields in the configuration', () => {
    const error = failure(() => apply(undefined, { ...config(), metadata: { name: 'web', managedFields: [] } }));
    expect(error.message).toBe('metadata.managedFields must be nil');
  });

  it('rejects a keyed list item without its key', () => {
    const error = failure(() => apply(undefined, config({ containers: [{ image: 'nginx' }] })));
    expect(error.code).toBe(400);
    expect(error.message).toContain('.spec.template.spec.containers: element 0: associative list with keys has an element that omits key field "name" (and doesn\'t have default value)');
  });

  it('rejects duplicate keys in the configuration', () => {
    const live = applied(undefined, config());
    const error = failure(() => apply(live, config({ containers: [{ name: 'web', image: 'a' }, { name: 'web', image: 'b' }] })));
    expect(error.message).toContain('duplicate entries for key [name="web"]');
  });
});

describe('serverSideApply: status and custom resources', () => {
  it('does not own reset fields (status on the main resource)', () => {
    const result = serverSideApply(undefined, { ...config(), status: { replicas: 1 } } as KubeObject, { manager: 'kubectl', force: false, ...apps, now: t1, resetFields: [['status']] });
    expect(JSON.stringify(fields(result.object, 'kubectl'))).not.toContain('f:status');
  });

  it('treats lists of a custom resource without a schema as atomic', () => {
    const crd = { group: 'stable.example.com', version: 'v1', kind: 'CronTab' };
    const cron = (items: string[]): KubeObject => ({ apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'c' }, spec: { cronSpec: '* * * * */5', items } });
    const live = stored(serverSideApply(undefined, cron(['a', 'b']), { manager: 'one', force: false, ...crd, now: t1 }).object);
    const result = serverSideApply(live, cron(['c']), { manager: 'two', force: false, ...crd, now: t2 });
    expect(result.conflicts.map((c) => c.field)).toEqual(['.spec.items']);
  });
});
