// Who may do what. Every learner learns; an instructor also runs workshops; an admin (a training
// owner) also sees every report — and may do what an instructor does, so an admin never needs both.

import { hasRole, type Learner, type Role } from '../../contracts/index.ts';

export { hasRole };

/** What a route asks of the one requesting it. */
export type Access = 'public' | 'learner' | Role;

export const ACCESS_LEVELS: readonly Access[] = ['public', 'learner', 'instructor', 'admin'];

export function allows(access: Access, learner: Learner | null): boolean {
  if (access === 'public') return true;
  if (access === 'learner') return learner !== null;
  return hasRole(learner, access);
}

/** Why `learner` may not open an address that asks for `access`, or null when they may. */
export function refusalFor(access: Access, learner: Learner | null): { status: 401 | 403; message: string; required: Access } | null {
  if (allows(access, learner)) return null;
  if (learner === null) return { status: 401, message: 'sign in first', required: access };
  return { status: 403, message: `this needs the ${access} role, and ${learner.name} does not have it`, required: access };
}

export interface GroupRoles {
  instructorGroups: readonly string[];
  adminGroups: readonly string[];
}

/** The roles a learner's groups grant (AUTH=oidc), re-evaluated at every sign-in. */
export function rolesOfGroups(groups: readonly string[], mapping: GroupRoles): Role[] {
  const roles: Role[] = [];
  if (groups.some((group) => mapping.instructorGroups.includes(group))) roles.push('instructor');
  if (groups.some((group) => mapping.adminGroups.includes(group))) roles.push('admin');
  return roles;
}
