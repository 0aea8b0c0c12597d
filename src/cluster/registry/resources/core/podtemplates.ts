// PodTemplates (pkg/registry/core/podtemplate/strategy.go): a pod template stored on its own,
// with the pod spec's defaults and validation (any restart policy, no selector to match);
// generation starts at 1 and bumps when the template changes.
import { asObject } from '../../../json.ts';
import { defineResource, type ResourceStrategy } from '../../strategy.ts';
import { defaultPodTemplate, validatePodTemplate } from './podspec.ts';

export const podtemplates: ResourceStrategy = {
  definition: defineResource({ group: '', version: 'v1', resource: 'podtemplates', kind: 'PodTemplate', namespaced: true }),
  tracksGeneration: true,
  defaults(podTemplate) {
    if (asObject(podTemplate.template)) defaultPodTemplate(podTemplate.template);
  },
  validate: (podTemplate) => validatePodTemplate(podTemplate.template, 'template', undefined),
  validateUpdate: (podTemplate) => validatePodTemplate(podTemplate.template, 'template', undefined),
};
