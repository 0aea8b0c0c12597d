// Custom checks of the obs-first-look lab.
import type { CustomCheck } from '../../src/labs/index.ts';

/** ~/reports-reason.txt holds the reason of the event that explains why reports is Pending. */
export const reportsReasonSaved: CustomCheck = async (ctx) => {
  const text = await ctx.readFile('~/reports-reason.txt');
  const expected = 'FailedScheduling';
  if (text === null) return { passed: false, expected, found: 'no ~/reports-reason.txt', message: 'There is no file ~/reports-reason.txt in your workbench yet.' };
  const answer = text.trim();
  if (answer.toLowerCase() === expected.toLowerCase())
    return { passed: true, expected, found: answer, message: 'Right: the scheduler wrote FailedScheduling, and its message says which rule no node met.' };
  const found = answer.slice(0, 80) || '(an empty file)';
  if (/^pending$/i.test(answer))
    return { passed: false, expected, found, message: "Pending is the pod's phase: it says that the pod waits, not why. Write the REASON of the Warning event in the pod's events." };
  return {
    passed: false,
    expected,
    found,
    message: `~/reports-reason.txt says ${JSON.stringify(found)}; write only the one-word reason of the Warning event at the end of kubectl describe pod (the REASON column of kubectl events).`,
  };
};
