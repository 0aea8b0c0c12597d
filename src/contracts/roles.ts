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
