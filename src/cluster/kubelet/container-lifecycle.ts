// A running container's probes and lifecycle hooks, as the kubelet's prober and lifecycle
// handler run them: startup first, then liveness and readiness; postStart after the start,
// preStop before the stop; the events and messages upstream gives when one fails.
import type { ContainerSlot } from './container-slot.ts';
import type { ContainerInstance } from './containers.ts';
import { runInContainer } from './container-exec.ts';
import { type Json, num, obj, objects, specOf, str, strings } from '../json.ts';
import { podGraceMs, type PodContext } from './pod-context.ts';
import { openPodPort } from './network/index.ts';
import { type Dial, httpGet, probeUrl } from './probe-http.ts';
import { httpGetRequest, type ProbeKind, type ProbeTarget, ProbeWorker } from './probes.ts';

/** Starts the startup probe, or liveness and readiness when there is none. */
export function startProbes(context: PodContext, slot: ContainerSlot, instance: ContainerInstance): void {
  const startup = obj(slot.spec['startupProbe']);
  if (Object.keys(startup).length > 0) startProbe(context, slot, instance, 'Startup', startup);
  else startRunningProbes(context, slot, instance);
}

/** postStart runs once the container started; a failure kills the container. */
export function runPostStart(context: PodContext, slot: ContainerSlot, instance: ContainerInstance): void {
  const postStart = obj(obj(slot.spec['lifecycle'])['postStart']);
  if (Object.keys(postStart).length === 0) return;
  void hookFailure(context, slot, instance, postStart, 30_000).then((failure) => {
    if (!failure || !instance.running) return;
    context.event('Warning', 'FailedPostStartHook', failure, slot);
    context.event('Normal', 'Killing', 'FailedPostStartHook', slot);
    instance.stop(podGraceMs(context));
  });
}

/**
 * Kills a running container as the kubelet's killContainer does, for a deleted pod or a failed
 * liveness or startup probe: its preStop hook first, inside the grace period (a failure is a
 * FailedPreStopHook event), then SIGTERM with what is left of the grace period.
 */
export function stopContainer(context: PodContext, slot: ContainerSlot, instance: ContainerInstance, graceMs: number): void {
  const preStop = obj(obj(slot.spec['lifecycle'])['preStop']);
  if (Object.keys(preStop).length === 0) {
    instance.stop(graceMs);
    return;
  }
  const started = Date.now();
  void context.delay(graceMs).then(() => instance.stop(0));
  void hookFailure(context, slot, instance, preStop, graceMs).then((failure) => {
    if (failure) context.event('Warning', 'FailedPreStopHook', failure, slot);
    instance.stop(Math.max(0, graceMs - (Date.now() - started)));
  });
}

/** runHook's outcome; a hook that could not be run at all (its sandbox failed) fails with that reason. */
function hookFailure(context: PodContext, slot: ContainerSlot, instance: ContainerInstance, hook: Json, timeoutMs: number): Promise<string | undefined> {
  return runHook(context, slot, instance, hook, timeoutMs).catch((error: unknown) => (error instanceof Error ? error.message : String(error)));
}

/** Runs a postStart or preStop hook (exec, httpGet, sleep); the failure message as the kubelet words it, or undefined. */
async function runHook(context: PodContext, slot: ContainerSlot, instance: ContainerInstance, hook: Json, timeoutMs: number): Promise<string | undefined> {
  const where = `for Container "${slot.name}" in Pod "${context.description()}" failed`;
  if (hook['sleep']) {
    await context.delay(context.node.scaled((num(obj(hook['sleep'])['seconds']) ?? 0) * 1000));
    return undefined;
  }
  if (hook['httpGet']) {
    const httpGet = obj(hook['httpGet']);
    const target = probeTarget(context, slot, instance);
    const port = target.resolvePort(httpGet['port']);
    const path = str(httpGet['path']) ?? '/';
    const host = str(httpGet['host']) || (context.podIP() ?? '');
    const failed = (error: string) => `HTTP lifecycle hook (${path}) ${where} - error: ${error}, message: ""`;
    if (port === undefined) return failed(`Get "${probeUrl('http', host, String(httpGet['port']), path)}": dial tcp ${host}: unknown port`);
    const outcome = await target.http(httpGetRequest(httpGet, host, port, 'kube-lifecycle/1.33', timeoutMs));
    if ('error' in outcome) return failed(outcome.error);
    return outcome.status >= 400 ? failed(`HTTP lifecycle hook (${path}) returned status ${outcome.status}`) : undefined;
  }
  const command = strings(obj(hook['exec'])['command']);
  if (command.length === 0) return undefined;
  const outcome = await probeTarget(context, slot, instance).exec(command, timeoutMs);
  const text = command.join(' ');
  if ('timedOut' in outcome) return `Exec lifecycle hook ([${text}]) ${where} - error: command '${text}' timed out, message: ""`;
  if (outcome.exitCode === 0) return undefined;
  return `Exec lifecycle hook ([${text}]) ${where} - error: command '${text}' exited with ${outcome.exitCode}: ${outcome.output}, message: ${JSON.stringify(outcome.output)}`;
}

function startRunningProbes(context: PodContext, slot: ContainerSlot, instance: ContainerInstance): void {
  const liveness = obj(slot.spec['livenessProbe']);
  const readiness = obj(slot.spec['readinessProbe']);
  if (Object.keys(liveness).length > 0) startProbe(context, slot, instance, 'Liveness', liveness);
  if (Object.keys(readiness).length > 0) startProbe(context, slot, instance, 'Readiness', readiness);
}

function startProbe(context: PodContext, slot: ContainerSlot, instance: ContainerInstance, kind: ProbeKind, spec: Json): void {
  const { node } = context;
  const worker = new ProbeWorker(kind, spec, probeTarget(context, slot, instance), { scaled: (ms) => Math.max(node.scaled(ms), 10), userAgent: 'kube-probe/1.33' }, {
    attempt: (probeKind, result) => {
      if (slot.instance !== instance || !instance.running) return;
      if (!result.success) context.event('Warning', 'Unhealthy', `${probeKind} probe failed: ${result.message}`, slot);
      else if (result.warning) context.event('Warning', 'ProbeWarning', `${probeKind} probe warning: ${result.warning}`, slot);
    },
    transition: (probeKind, healthy) => {
      if (slot.instance !== instance || !instance.running) return;
      if (probeKind === 'Readiness') {
        slot.ready = healthy;
      } else if (probeKind === 'Startup' && healthy) {
        slot.started = true;
        slot.ready = Object.keys(obj(slot.spec['readinessProbe'])).length === 0;
        startRunningProbes(context, slot, instance);
      } else {
        context.event('Normal', 'Killing', `Container ${slot.name} failed ${probeKind.toLowerCase()} probe, will be restarted`, slot);
        slot.ready = false;
        const grace = num(obj(slot.spec[probeKind === 'Liveness' ? 'livenessProbe' : 'startupProbe'])['terminationGracePeriodSeconds']) ?? num(specOf(context.pod())['terminationGracePeriodSeconds']) ?? 30;
        stopContainer(context, slot, instance, node.scaled(grace * 1000));
      }
      context.statusChanged();
    },
  });
  slot.probes.push(worker);
  worker.start();
}

function probeTarget(context: PodContext, slot: ContainerSlot, instance: ContainerInstance): ProbeTarget {
  const podIP = context.podIP();
  // The kubelet reaches pods from the node's side of the pod network: the gateway address.
  const gateway = (podIP ?? '10.244.0.0').replace(/\.\d+$/, '.1');
  return {
    podIP: podIP ?? '',
    resolvePort: (port) => {
      if (typeof port === 'number') return port;
      const named = objects(slot.spec['ports']).find((p) => p['name'] === port);
      return named ? num(named['containerPort']) : /^\d+$/.test(String(port)) ? Number(port) : undefined;
    },
    http: async (request) => {
      if (instance.process === undefined) {
        // A simulated server answers from data, at the pod IP; a hostNetwork pod's also at the
        // node's loopback, where the kubelet (on the node) reaches it: the control plane's static
        // pods are probed at 127.0.0.1, as kubeadm writes them.
        const hostNetwork = specOf(context.pod())['hostNetwork'] === true;
        const reached = request.host === podIP || (hostNetwork && /^127\.\d+\.\d+\.\d+$/.test(request.host));
        const answer = reached ? instance.http(request.port, request.path, hostNetwork ? request.host : gateway, request.userAgent) : undefined;
        return answer ? { status: answer.status, body: answer.body } : { error: `Get "${probeUrl(request.scheme, request.host, request.port, request.path)}": dial tcp ${request.host}:${request.port}: connect: connection refused` };
      }
      return httpGet(request, await kubeletDial(context, podIP));
    },
    // A simulated server says what it listens on; a real process listens in the pod's network namespace.
    tcp: async (port) => instance.listens(port) || (instance.process !== undefined && ((await context.podSandbox())?.accepts(podIP, port) ?? false)),
    exec: (command, timeoutMs) => runInContainer(context, slot, command, timeoutMs),
  };
}

/**
 * Where the kubelet's connections to a pod come from: the node's network namespace on the pod
 * network. Without one (no root), a pod's address is only in the kubelet's books: a process that
 * listens on the pod's address (0.0.0.0) is reached on its localhost, inside its own namespace.
 */
async function kubeletDial(context: PodContext, podIP: string | undefined): Promise<Dial> {
  const network = await context.node.podNetwork();
  if (network) return (ip, port, timeoutSeconds) => network.connect(context.identity, ip, port, timeoutSeconds);
  const support = context.node.sandbox();
  const sandbox = await context.podSandbox();
  if (support.mode !== 'bubblewrap' || !support.nsenter || !support.socat || !sandbox) return () => undefined;
  const tools = { nsenter: support.nsenter, setpriv: support.setpriv, socat: support.socat };
  return (ip, port) => (ip === podIP && sandbox.accepts(podIP, port) ? openPodPort(sandbox, tools, port) : undefined);
}
