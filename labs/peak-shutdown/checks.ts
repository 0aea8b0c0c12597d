// Custom checks of the peak-shutdown lab.
import type { CustomCheck } from '../../src/labs/index.ts';

interface Handler {
  sleep?: { seconds?: number };
  exec?: { command?: string[] };
  httpGet?: unknown;
}
interface Container {
  name?: string;
  lifecycle?: { preStop?: Handler };
}

/** Seconds a preStop hook waits: the sleep action, or an exec hook that runs `sleep N`. */
function pauseOf(handler: Handler | undefined): number | null {
  if (!handler) return null;
  if (handler.sleep?.seconds !== undefined) return handler.sleep.seconds;
  const command = (handler.exec?.command ?? []).join(' ');
  const match = /\bsleep\s+(\d+)/.exec(command);
  return match ? Number(match[1]) : null;
}

/** cart pauses at least 5 s before SIGTERM, and the grace period leaves 10 s after the pause. */
export const preStopFitsGracePeriod: CustomCheck = async (ctx) => {
  const deployment = await ctx.get('deployment', 'cart');
  const podSpec = (deployment?.spec as { template?: { spec?: { containers?: Container[]; terminationGracePeriodSeconds?: number } } } | undefined)?.template?.spec;
  const container = (podSpec?.containers ?? []).find((c) => c.name === 'cart');
  const grace = podSpec?.terminationGracePeriodSeconds ?? 30;
  const pause = pauseOf(container?.lifecycle?.preStop);
  const expected = 'a preStop pause of at least 5 s, and terminationGracePeriodSeconds at least 10 s longer';
  const found = `preStop: ${container?.lifecycle?.preStop ? (pause === null ? 'a hook that does not pause' : `${pause} s pause`) : 'none'}; grace period ${grace} s`;
  if (!container?.lifecycle?.preStop) return { passed: false, expected, found, message: 'The container cart has no preStop hook yet: SIGTERM still arrives the moment the pod is deleted.' };
  if (pause === null) return { passed: false, expected, found, message: 'The preStop hook does not pause (use the sleep action, or exec sleep N); the app would still stop before traffic has moved away.' };
  if (pause < 5) return { passed: false, expected, found, message: `A ${pause}-second pause is shorter than this step asks (5 s): traffic may still arrive after SIGTERM.` };
  if (grace < pause + 10) return { passed: false, expected, found, message: `The grace period (${grace} s) leaves the app ${Math.max(0, grace - pause)} s after the pause; it is killed (SIGKILL) before it can finish its requests. Make it at least ${pause + 10} s.` };
  return { passed: true, expected, found, message: `cart waits ${pause} s for traffic to move away, then has ${grace - pause} s to finish before it is killed.` };
};
