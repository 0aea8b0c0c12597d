// Custom checks of the obs-probes lab.
import type { CustomCheck, KubeObject } from '../../src/labs/index.ts';

const ready = (pod: KubeObject) => ((pod.status as { conditions?: Array<{ type?: string; status?: string }> } | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** ~/out-of-traffic.txt names the api pod that is not Ready. */
export const outOfTrafficPodNamed: CustomCheck = async (ctx) => {
  const pods = (await ctx.list('pods', { selector: 'app=api' })).filter((pod) => !pod.metadata.deletionTimestamp);
  const out = pods.filter((pod) => !ready(pod)).map((pod) => pod.metadata.name ?? '');
  const expected = out.join(', ') || 'the api pod that is not Ready';
  const text = await ctx.readFile('~/out-of-traffic.txt');
  if (text === null) return { passed: false, expected, found: 'no ~/out-of-traffic.txt', message: 'There is no file ~/out-of-traffic.txt in your workbench yet.' };
  const answer = text.trim().replace(/^pod\//, '');
  const found = answer.slice(0, 80) || '(an empty file)';
  if (out.includes(answer)) return { passed: true, expected, found, message: `Right: ${answer} answers 503 on /ready, so it left the Service's endpoints — and keeps running, with no restart.` };
  if (answer === 'api') return { passed: false, expected, found, message: 'api is the Deployment (and the Service); one of its pods is out of traffic. Write that pod\'s name.' };
  if (pods.some((pod) => pod.metadata.name === answer)) return { passed: false, expected, found, message: `${answer} is Ready and gets traffic. Look for READY 0/1, or ready: false in the EndpointSlice.` };
  return { passed: false, expected, found, message: `~/out-of-traffic.txt says ${JSON.stringify(found)}; write only the name of the api pod that is not Ready.` };
};

/** ~/worker-signal.txt holds the kubelet's liveness failure message. */
export const workerSignalSaved: CustomCheck = async (ctx) => {
  const expected = 'Liveness probe failed: HTTP probe failed with statuscode: 500';
  const text = await ctx.readFile('~/worker-signal.txt');
  if (text === null) return { passed: false, expected, found: 'no ~/worker-signal.txt', message: 'There is no file ~/worker-signal.txt in your workbench yet.' };
  const found = text.trim().split('\n')[0]?.slice(0, 120) || '(an empty file)';
  if (/Liveness probe failed/.test(text) && /500/.test(text))
    return { passed: true, expected, found, message: 'Right: the kubelet ends worker because its liveness probe gets 500 from /healthz — the app says it is broken.' };
  if (/CrashLoopBackOff|Back-off/i.test(text))
    return { passed: false, expected, found, message: 'Back-off is the kubelet waiting between restarts; it says that worker restarts, not why. Find the Unhealthy event before each Killing.' };
  if (/Killing|will be restarted/.test(text))
    return { passed: false, expected, found, message: 'That is the kubelet acting; save the Warning before it, which says what the probe got.' };
  return { passed: false, expected, found, message: '~/worker-signal.txt does not hold the kubelet\'s probe message. The Warning events of the worker pod (reason Unhealthy) say which probe failed and with what.' };
};

/** worker keeps its liveness probe. */
export const workerProbeKept: CustomCheck = async (ctx) => {
  const deployment = await ctx.get('deployment', 'worker');
  const container = (deployment?.spec as { template?: { spec?: { containers?: Array<{ name?: string; livenessProbe?: { httpGet?: { path?: string } } }> } } } | undefined)?.template?.spec?.containers?.find((c) => c.name === 'worker');
  const path = container?.livenessProbe?.httpGet?.path;
  const expected = 'the liveness probe on /healthz';
  if (path === '/healthz') return { passed: true, expected, found: 'liveness GET /healthz', message: 'worker keeps its liveness probe: the signal stays.' };
  return { passed: false, expected, found: path ? `liveness GET ${path}` : 'no liveness probe', message: 'worker\'s liveness probe was changed or removed: the restarts stop, and so does the signal that the app really breaks. Keep it as it was.' };
};
