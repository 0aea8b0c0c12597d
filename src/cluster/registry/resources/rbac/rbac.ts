// Roles, ClusterRoles and their bindings: rule shape, subjects, an immutable roleRef. Deciding
// who may do what is the authorizer's job (src/cluster/apiserver), not the registry's.
import type { KubeObject } from '../../../types.ts';
import { asArray, asObject, objects, str } from '../../../json.ts';
import { setDefault } from '../../fields.ts';
import { defineResource, type ResourceStrategy } from '../../strategy.ts';
import { type FieldError, fieldError, GoValue, isValidPathSegmentName } from '../../validation.ts';

const RBAC_GROUP = 'rbac.authorization.k8s.io';
const subjectKinds = ['ServiceAccount', 'User', 'Group'];

const pathSegmentName = (name: string) => isValidPathSegmentName(name);

function stringSlice(values: unknown[]): GoValue {
  return new GoValue(`[]string{${values.map((v) => JSON.stringify(String(v))).join(', ')}}`);
}

function validateRules(rules: unknown, path: string, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  asArray(rules).forEach((raw, i) => {
    const rule = asObject(raw) ?? {};
    const p = `${path}[${i}]`;
    if (asArray(rule.verbs).length === 0) errs.push(fieldError.required(`${p}.verbs`, 'verbs must contain at least one value'));
    const urls = asArray(rule.nonResourceURLs);
    if (urls.length > 0) {
      if (namespaced) errs.push(fieldError.invalid(`${p}.nonResourceURLs`, stringSlice(urls), 'namespaced rules cannot apply to non-resource URLs'));
      if (asArray(rule.apiGroups).length > 0 || asArray(rule.resources).length > 0 || asArray(rule.resourceNames).length > 0)
        errs.push(fieldError.invalid(`${p}.nonResourceURLs`, stringSlice(urls), 'rules cannot apply to both regular resources and non-resource URLs'));
      return;
    }
    if (asArray(rule.resources).length === 0) errs.push(fieldError.required(`${p}.resources`, 'resource rules must supply at least one resource'));
    if (rule.apiGroups === undefined || asArray(rule.apiGroups).length === 0) errs.push(fieldError.required(`${p}.apiGroups`, 'resource rules must supply at least one api group'));
  });
  return errs;
}

function validateRole(role: KubeObject, namespaced: boolean): FieldError[] {
  return validateRules(role.rules, 'rules', namespaced);
}

function defaultSubjects(binding: KubeObject): void {
  for (const subject of objects(binding.subjects)) {
    // SetDefaults_Subject gives ServiceAccounts the core group "", which omitempty then leaves out.
    if (subject.kind === 'ServiceAccount') {
      if (subject.apiGroup === '') delete subject.apiGroup;
    } else if (subject.kind === 'User' || subject.kind === 'Group') setDefault(subject, 'apiGroup', RBAC_GROUP);
  }
  const roleRef = asObject(binding.roleRef);
  if (roleRef) setDefault(roleRef, 'apiGroup', RBAC_GROUP);
}

function validateBinding(binding: KubeObject, namespaced: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const roleRef = asObject(binding.roleRef);
  if (!roleRef) errs.push(fieldError.required('roleRef'));
  else {
    const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
    if (roleRef.apiGroup !== RBAC_GROUP) errs.push(fieldError.notSupported('roleRef.apiGroup', roleRef.apiGroup ?? '', [RBAC_GROUP]));
    if (!kinds.includes(String(roleRef.kind))) errs.push(fieldError.notSupported('roleRef.kind', roleRef.kind ?? '', kinds));
    if (typeof roleRef.name !== 'string' || roleRef.name === '') errs.push(fieldError.required('roleRef.name'));
    else for (const msg of pathSegmentName(roleRef.name)) errs.push(fieldError.invalid('roleRef.name', roleRef.name, msg));
  }
  asArray(binding.subjects).forEach((raw, i) => {
    const subject = asObject(raw) ?? {};
    const p = `subjects[${i}]`;
    const name = str(subject.name);
    if (!name) errs.push(fieldError.required(`${p}.name`));
    if (!subjectKinds.includes(String(subject.kind))) {
      errs.push(fieldError.notSupported(`${p}.kind`, subject.kind ?? '', subjectKinds));
      return;
    }
    if (subject.kind === 'ServiceAccount') {
      if (subject.apiGroup !== '' && subject.apiGroup !== undefined) errs.push(fieldError.notSupported(`${p}.apiGroup`, subject.apiGroup, ['']));
      if (!namespaced && !subject.namespace) errs.push(fieldError.required(`${p}.namespace`));
    } else if (subject.apiGroup !== RBAC_GROUP) {
      errs.push(fieldError.notSupported(`${p}.apiGroup`, subject.apiGroup ?? '', [RBAC_GROUP]));
    }
  });
  return errs;
}

function roleRefText(roleRef: unknown): GoValue {
  const r = asObject(roleRef) ?? {};
  return new GoValue(`rbac.RoleRef{APIGroup:${JSON.stringify(r.apiGroup ?? '')}, Kind:${JSON.stringify(r.kind ?? '')}, Name:${JSON.stringify(r.name ?? '')}}`);
}

function bindingUpdate(binding: KubeObject, old: KubeObject, namespaced: boolean): FieldError[] {
  const errs = validateBinding(binding, namespaced);
  const now = asObject(binding.roleRef) ?? {};
  const before = asObject(old.roleRef) ?? {};
  if (now.apiGroup !== before.apiGroup || now.kind !== before.kind || now.name !== before.name) errs.push(fieldError.invalid('roleRef', roleRefText(binding.roleRef), 'cannot change roleRef'));
  return errs;
}

export const roles: ResourceStrategy = {
  definition: defineResource({ group: RBAC_GROUP, version: 'v1', resource: 'roles', kind: 'Role', namespaced: true }),
  validateName: pathSegmentName,
  allowCreateOnUpdate: true,
  validate: (role) => validateRole(role, true),
  validateUpdate: (role) => validateRole(role, true),
};

export const clusterroles: ResourceStrategy = {
  definition: defineResource({ group: RBAC_GROUP, version: 'v1', resource: 'clusterroles', kind: 'ClusterRole', namespaced: false }),
  validateName: pathSegmentName,
  allowCreateOnUpdate: true,
  validate: (role) => validateRole(role, false),
  validateUpdate: (role) => validateRole(role, false),
};

export const rolebindings: ResourceStrategy = {
  definition: defineResource({ group: RBAC_GROUP, version: 'v1', resource: 'rolebindings', kind: 'RoleBinding', namespaced: true }),
  validateName: pathSegmentName,
  allowCreateOnUpdate: true,
  defaults: defaultSubjects,
  validate: (binding) => validateBinding(binding, true),
  validateUpdate: (binding, old) => bindingUpdate(binding, old, true),
};

export const clusterrolebindings: ResourceStrategy = {
  definition: defineResource({ group: RBAC_GROUP, version: 'v1', resource: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false }),
  validateName: pathSegmentName,
  allowCreateOnUpdate: true,
  defaults: defaultSubjects,
  validate: (binding) => validateBinding(binding, false),
  validateUpdate: (binding, old) => bindingUpdate(binding, old, false),
};
