// Who a signed-in person is, as the pages, the API and the server all see them, and what their
// roles let them do. Every learner learns; an instructor also runs workshops; an admin (a training
// owner) also sees every report and may do what an instructor does, so an admin never needs both.

import { z } from 'zod';

export const ROLES = ['instructor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

export const learner = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string().nullable().describe('from the identity provider; null for AUTH=dev learners'),
  groups: z.array(z.string()).describe('the provider’s groups at the last sign-in (teams in reports)'),
  roles: z.array(z.enum(ROLES)).describe('granted at the last sign-in'),
});
export type Learner = z.infer<typeof learner>;

const GRANTS: Record<Role, readonly Role[]> = { instructor: ['instructor'], admin: ['admin', 'instructor'] };

export function hasRole(person: Pick<Learner, 'roles'> | null, role: Role): boolean {
  return person !== null && person.roles.some((held) => GRANTS[held].includes(role));
}

/** What the dev sign-in form sends (POST /api/session, AUTH=dev). */
export const SIGN_IN_ROLES = ['learner', ...ROLES] as const;
export const signInInput = z.object({
  name: z.string('the name to sign in with').default('').describe('the name to sign in with (AUTH=dev)'),
  role: z.enum(SIGN_IN_ROLES, `must be one of ${SIGN_IN_ROLES.join(', ')}`).default('learner').describe('dev sign-in only: the role to take'),
  next: z.string().optional().describe('a form is sent here afterwards'),
});
export type SignInInput = z.output<typeof signInInput>;
