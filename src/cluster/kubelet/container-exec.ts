// Processes started inside a running container: exec sessions (kubectl exec, the workbench
// terminal), exec probes and exec lifecycle hooks. Each gets the container's sandbox (its
// environment, volumes, /tmp and HOME); sessions also get the simulated network.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { containerRootFor, containerSandboxSpec, imageProgramMounts, instanceDirectories, podEtcFiles } from './container-sandbox.ts';
import type { ContainerSlot } from './container-slot.ts';
import { ContainerConfigError } from './environment.ts';
import { str } from '../json.ts';
import type { PodContext } from './pod-context.ts';
import { createSandboxDirectory, type SandboxSpec, spawnSandboxed } from './sandbox/index.ts';
import { SERVICE_PROXY_PORT } from './service-network.ts';
import { unsafeWorkbenchEnv, WORKBENCH_HOME, workbenchSandbox } from './workbench.ts';

/** HTTP to Services and pods through the simulated network: curl and wget honour http_proxy. */
export async function withServiceNetwork(context: PodContext, spec: SandboxSpec): Promise<SandboxSpec> {
  // On the pod network, Services and pods are reached as on a cluster: no proxy.
  if (await context.node.podNetwork()) return spec;
  const unixSocket = await context.node.serviceSocket(context.pod().metadata.namespace ?? 'default', context.pod().metadata.uid ?? '');
  const proxy = `http://127.0.0.1:${SERVICE_PROXY_PORT}`;
  return {
    ...spec,
    env: { http_proxy: proxy, HTTP_PROXY: proxy, no_proxy: '127.0.0.1,localhost', NO_PROXY: '127.0.0.1,localhost', ...spec.env },
    forwards: [...(spec.forwards ?? []), { port: SERVICE_PROXY_PORT, unixSocket }],
  };
}

/**
 * A process of this container runs in the pod sandbox: the pod's namespaces (the container's own
 * PID namespace once it has one) and identity, a leaf of the container's cgroup, and the forwards
 * it needs listening once in the pod's network.
 */
export async function inPodSandbox(context: PodContext, slot: ContainerSlot, spec: SandboxSpec, trackProcesses: boolean, survivorsStay = false): Promise<SandboxSpec> {
  const sandbox = await context.podSandbox();
  const cgroup = await context.containerCgroup(slot);
  const joined: SandboxSpec = { ...spec, identity: context.identity, user: context.user, ...(cgroup ? { cgroup, trackProcesses, survivorsStay } : {}) };
  if (!sandbox) return joined;
  for (const forward of spec.forwards ?? []) await sandbox.forward(forward);
  // A process in a running container joins the container's PID namespace (its command is PID 1 there).
  const pid = spec.ownPidNamespace ? undefined : slot.instance?.pidNamespace;
  return { ...joined, pod: { ...sandbox.namespaces, ...(pid ? { pid } : {}) } };
}

/** The sandbox for a process inside this container (exec sessions with the network, exec probes without), or why there can be none. */
export async function execSandbox(context: PodContext, slot: ContainerSlot, argv: string[], tty: { cols: number; rows: number } | undefined, network = false): Promise<SandboxSpec | string> {
  const { node, podDir } = context;
  const support = node.sandbox();
  if (support.mode === 'unavailable') return support.reason;
  const instance = slot.instance;
  if (!instance) return `container not found ("${slot.name}")`;
  const pod = context.pod();
  try {
    await context.prepareStorage();
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  context.volumes.materialize(pod);
  context.scheduleTokenRefresh();
  const instanceDir = join(instance.tmpDir, '..');
  const dirs = instanceDirectories(instanceDir, context.identity);
  let volumeMounts;
  try {
    volumeMounts = [...imageProgramMounts(slot.image, node.paths.imagesDir), ...context.volumes.mountsFor(pod, slot.spec, instanceDir, slot.env)];
  } catch (error) {
    if (error instanceof ContainerConfigError) return error.message;
    throw error;
  }
  const workbench = slot.image?.catalog?.kind === 'workbench';
  let root;
  try {
    root = containerRootFor(node.paths.imagesDir, slot.image, instanceDir, context.identity, context.user, str(slot.spec['workingDir']) ?? '/', volumeMounts);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  let extra;
  if (workbench) {
    const tools = await node.tools();
    const homeMount = volumeMounts.find((mount) => mount.target === WORKBENCH_HOME);
    const homeDir = homeMount?.source ?? join(podDir, 'home');
    if (!homeMount && !existsSync(homeDir)) createSandboxDirectory(homeDir, context.identity);
    if (support.mode === 'unsafe-local') {
      const token = node.tokens?.issue(pod, undefined, 3607)?.token;
      extra = { env: unsafeWorkbenchEnv({ pod, podDir, homeDir, apiUrl: node.apiUrl, token, caFile: node.caFile, tools }), mounts: [], forwards: [] };
    } else {
      extra = workbenchSandbox({ pod, podDir, homeDir, homeFromVolume: homeMount !== undefined, tools, apiSocket: node.apiSocket, owner: context.identity });
    }
  }
  const spec = containerSandboxSpec({
    pod,
    container: slot.spec,
    argv,
    env: slot.env,
    volumeMounts,
    etcMounts: podEtcFiles(pod, podDir, context.podIP()),
    instance: dirs,
    ...(root ? { root } : {}),
    ...(tty ? { tty } : {}),
    ...(extra ? { extra } : {}),
  });
  if (workbench) spec.workingDir = WORKBENCH_HOME;
  if (support.mode === 'unsafe-local') return { ...spec, env: { ...spec.env, TMPDIR: dirs.tmp, ...(workbench ? {} : { HOME: dirs.root }) } };
  // Exec sessions (the ones with the network) get a leaf of their own; probes and hooks just join
  // the container. What a terminal session leaves running when it ends (a tmux server, `nohup`)
  // stays in the container, as under a container runtime. A session without a terminal ends with
  // everything it started (stricter than a runtime, where it would linger): a learner's
  // `kubectl exec` cannot leave a fork bomb behind in a pod.
  return inPodSandbox(context, slot, network ? await withServiceNetwork(context, spec) : spec, network, network && tty !== undefined);
}

/** Runs a command in the container to its end (an exec probe or hook): its exit code and output, or a timeout. */
export async function runInContainer(context: PodContext, slot: ContainerSlot, command: string[], timeoutMs: number): Promise<{ exitCode: number; output: string } | { timedOut: true }> {
  const spec = await execSandbox(context, slot, command, undefined);
  if (typeof spec === 'string') return { exitCode: 1, output: spec };
  const process = await spawnSandboxed(spec, context.node.sandbox());
  process.endInput();
  let output = '';
  process.onOutput((_stream, data) => (output += data.toString('utf8')));
  const timer = setTimeout(() => process.kill('SIGKILL'), timeoutMs);
  const exit = await process.exited;
  clearTimeout(timer);
  if (exit.signal === 'SIGKILL' || exit.exitCode === 137) return { timedOut: true };
  return { exitCode: exit.exitCode, output };
}
