// DaemonSets: RollingUpdate (maxUnavailable 1, maxSurge 0) by default, immutable selector.
import { asObject } from '../../../json.ts';
import { ensureObject, setDefault } from '../../fields.ts';
import { defineResource, type ResourceStrategy, subresource } from '../../strategy.ts';
import { defaultWorkload, validateSelectorImmutable, validateWorkload } from './workload.ts';

export const daemonsets: ResourceStrategy = {
  definition: defineResource({
    group: 'apps',
    version: 'v1',
    resource: 'daemonsets',
    kind: 'DaemonSet',
    namespaced: true,
    shortNames: ['ds'],
    categories: ['all'],
    subresources: [subresource.status('apps', 'v1', 'DaemonSet')],
  }),
  tracksGeneration: true,
  statusZeroValues: { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 },
  defaults(ds) {
    defaultWorkload(ds, false);
    const spec = asObject(ds.spec);
    if (!spec) return;
    const update = ensureObject(spec, 'updateStrategy');
    setDefault(update, 'type', 'RollingUpdate');
    if (update.type === 'RollingUpdate') {
      const rolling = ensureObject(update, 'rollingUpdate');
      setDefault(rolling, 'maxUnavailable', 1);
      setDefault(rolling, 'maxSurge', 0);
    }
  },
  validate: (ds) => validateWorkload(ds, { replicas: false, restartAlways: true }),
  validateUpdate: (ds, old) => [...validateWorkload(ds, { replicas: false, restartAlways: true }), ...validateSelectorImmutable(ds, old)],
};
