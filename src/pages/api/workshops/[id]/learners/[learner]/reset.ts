import { resetInput } from '../../../../../../contracts/index.ts';
import { readBody } from '../../../../../../server/http/index.ts';
import { workshopRoute } from '../../../_workshops.ts';

/** POST /api/workshops/:id/learners/:learner/reset {lab}: a fresh sandbox for the learner's lab. */
export const POST = workshopRoute(async ({ workshops, learner, id }, { request, params }) => {
  const { lab } = await readBody(request, resetInput);
  await workshops.resetLab(id, learner, params.learner ?? '', lab);
  return { reset: true };
});
