import { addInstructorInput } from '../../../../contracts/index.ts';
import { readBody } from '../../../../server/http/index.ts';
import { workshopRoute } from '../_workshops.ts';

/** POST /api/workshops/:id/instructors {instructor}: the owner adds a co-instructor (by sign-in name or email). */
export const POST = workshopRoute(async ({ workshops, learner, id }, { request }) => workshops.addInstructor(id, learner, await readBody(request, addInstructorInput)));
