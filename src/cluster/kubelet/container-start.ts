// Creating a container instance once its image is there: the environment (env, envFrom, the
// downward API), the command line (the image's entrypoint and cmd under the spec's command and
// args), then either a real process in the sandbox (shell images, shell commands) or a simulated
// server from the image catalog. The waiting and terminated states a failed start leaves are
// upstream's (CreateContainerConfigError, CreateContainerError, StartError).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { containerRootFor, containerSandboxSpec, DEFAULT_PATH, findExecutable, instanceDirectories, podEtcFiles } from './container-sandbox.ts';
import type { ContainerSlot } from './container-slot.ts';
import { inPodSandbox, withServiceNetwork } from './container-exec.ts';
import { type ContainerInstance, ProcessContainer, SimulatedContainer } from './containers.ts';
import { ContainerConfigError, containerEnvironment, expand } from './environment.ts';
import { type Json, specOf, statusOf, str, strings, timestamp } from './format.ts';
import { behaviourOf, type ImageBehaviour, type ResolvedImage, versionOf } from './images/index.ts';
import type { PodContext } from './pod-context.ts';
import type { TerminatedState } from './pod-status.ts';
import { ownPidNamespace, type PidNamespace, type SandboxedProcess, spawnSandboxed } from './sandbox/index.ts';
import { runAsNonRootRefusal } from './security-context.ts';
import { memoryLimitBytes, OOM_AFTER_MS, simulatedUsage } from './usage.ts';

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', 'zsh', 'ksh']);
const UTILITIES = new Set(['sleep', 'echo', 'printenv', 'env', 'cat', 'true', 'false', 'date', 'ls', 'tail', 'yes', 'watch', 'timeout', 'printf', 'seq', 'id', 'hostname', 'nc', 'wget', 'curl']);
const CONFIG_RETRY_MS = 10_000;

function basename(command: string): string {
  return command.split('/').pop() ?? command;
}

/** busybox-style images, or a command that names a shell or a simple utility, run for real. */
export function runsForReal(image: ResolvedImage, spec: Json): boolean {
  const kind = image.catalog?.kind;
  if (kind === 'shell') return true;
  if (kind === 'workbench') return false;
  const first = strings(spec['command'])[0] ?? (kind === undefined ? strings(spec['args'])[0] : undefined);
  return first !== undefined && (SHELLS.has(basename(first)) || UTILITIES.has(basename(first)));
}

/** Resolves env and mounts, then makes the instance: a sandboxed process or a simulated server; undefined when it cannot start now. */
export async function createContainer(context: PodContext, slot: ContainerSlot, image: ResolvedImage, first: ContainerSlot | undefined): Promise<ContainerInstance | undefined> {
  const { node } = context;
  const pod = context.pod();
  let environment;
  const refusal = runAsNonRootRefusal(pod, slot.spec, context.description());
  if (refusal) {
    slot.state = { waiting: { reason: 'CreateContainerConfigError', message: refusal } };
    slot.configRetryAt = node.now().getTime() + node.scaled(CONFIG_RETRY_MS);
    context.event('Warning', 'Failed', `Error: ${refusal}`, slot);
    return undefined;
  }
  try {
    // status.podIP and hostIP are the kubelet's own knowledge, even before the status carrying them is written.
    const known = { ...pod, status: { ...statusOf(pod), podIP: context.podIP(), hostIP: node.hostIP } };
    environment = containerEnvironment(node.view, known, slot.spec, node.allocatable);
    context.volumes.subPaths(slot.spec, environment.env);
  } catch (error) {
    if (!(error instanceof ContainerConfigError)) throw error;
    slot.state = { waiting: { reason: 'CreateContainerConfigError', message: error.message } };
    slot.configRetryAt = node.now().getTime() + node.scaled(CONFIG_RETRY_MS);
    context.event('Warning', 'Failed', `Error: ${error.message}`, slot);
    return undefined;
  }
  slot.configRetryAt = undefined;
  for (const skipped of environment.skipped) {
    context.event('Warning', 'InvalidEnvironmentVariableNames', `Keys [${skipped.keys.join(', ')}] from the EnvFrom ${skipped.kind} ${skipped.namespace}/${skipped.name} were skipped since they are considered invalid environment variable names.`, slot);
  }
  const envMap = new Map(environment.env);
  const { argv, args } = commandLine(slot, image, envMap);
  const previous = slot.exit;
  const instanceDir = join(context.podDir, 'containers', slot.name, String(slot.restartCount + (slot.exit ? 1 : 0)));
  if (runsForReal(image, slot.spec)) {
    const spawned = await spawnReal(context, slot, image, argv, environment.env, instanceDir);
    if (typeof spawned === 'string') {
      startFailed(context, slot, spawned, previous);
      return undefined;
    }
    created(context, slot, environment.env, previous);
    return new ProcessContainer(spawned.process, spawned.tmp, () => node.now(), () => node.logLimit(), spawned.pidNamespace);
  }
  const behaviour = behaviourWithPort(image, args);
  const requirement = image.catalog?.requiredEnv;
  const failure = requirement && !requirement.anyOf.some((name) => (envMap.get(name) ?? '') !== '') ? { logs: requirement.logs, exitCode: requirement.exitCode } : undefined;
  const limit = memoryLimitBytes(slot);
  const memory = simulatedUsage(pod, first, slot, behaviour).memoryBytes;
  created(context, slot, environment.env, previous);
  return new SimulatedContainer({
    behaviour: image.catalog ? behaviour : undefined,
    templates: { hostname: str(specOf(pod)['hostname']) ?? pod.metadata.name ?? '', version: versionOf(image), podIP: context.podIP() ?? '', port: String(behaviour?.httpPort ?? '') },
    env: envMap,
    ...(failure ? { failure } : {}),
    ...(limit !== undefined && memory > limit ? { oomAfterMs: node.scaled(OOM_AFTER_MS) } : {}),
    now: () => node.now(),
    logLimit: () => node.logLimit(),
    scaled: (ms) => node.scaled(ms),
    tmpDir: join(instanceDir, 'tmp'),
  });
}

function commandLine(slot: ContainerSlot, image: ResolvedImage, env: Map<string, string>): { argv: string[]; args: string[] } {
  const command = strings(slot.spec['command']);
  const args = slot.spec['args'] !== undefined ? strings(slot.spec['args']) : command.length > 0 ? [] : (image.catalog?.cmd ?? []);
  const entrypoint = command.length > 0 ? command : (image.catalog?.entrypoint ?? []);
  const lookup = (name: string) => env.get(name);
  return { argv: [...entrypoint, ...args].map((part) => expand(part, lookup)), args: args.map((part) => expand(part, lookup)) };
}

/** An --http-port=N argument moves a simulated server's HTTP port, as the demo images' flag does. */
function behaviourWithPort(image: ResolvedImage, args: string[]): ImageBehaviour | undefined {
  const behaviour = behaviourOf(image, args);
  const port = Number(/^--http-port=(\d+)$/.exec(args.find((arg) => arg.startsWith('--http-port=')) ?? '')?.[1]);
  if (!behaviour || !Number.isInteger(port) || port <= 0) return behaviour;
  return { ...behaviour, httpPort: port, ports: [port, ...behaviour.ports.filter((p) => p !== behaviour.httpPort)] };
}

function created(context: PodContext, slot: ContainerSlot, env: Array<[string, string]>, previous: TerminatedState | undefined): void {
  if (previous) {
    slot.exit = undefined;
    slot.lastState = previous;
    slot.previousLog = slot.instance?.log ?? slot.previousLog;
    // The old instance's writable layer goes with it, as a container's does.
    rmSync(join(context.podDir, 'containers', slot.name, String(slot.restartCount)), { recursive: true, force: true });
    slot.restartCount++;
  }
  slot.env = env;
  slot.restartAt = undefined;
  context.event('Normal', 'Created', `Created container: ${slot.name}`, slot);
}

/** The container's process could not start (a missing executable): StartError, then restarts per policy. */
function startFailed(context: PodContext, slot: ContainerSlot, message: string, previous: TerminatedState | undefined): void {
  const { node } = context;
  if (message.startsWith('config:')) {
    // A path the kubelet refused while preparing the mounts (a subPath leaving its volume).
    const reason = message.slice('config:'.length);
    slot.state = { waiting: { reason: 'CreateContainerConfigError', message: reason } };
    slot.configRetryAt = node.now().getTime() + node.scaled(CONFIG_RETRY_MS);
    context.event('Warning', 'Failed', `Error: ${reason}`, slot);
    return;
  }
  if (message.startsWith('sandbox:')) {
    const reason = message.slice('sandbox:'.length);
    slot.state = { waiting: { reason: 'CreateContainerError', message: reason } };
    slot.configRetryAt = node.now().getTime() + node.scaled(CONFIG_RETRY_MS * 6);
    context.event('Warning', 'Failed', `Error: ${reason}`, slot);
    return;
  }
  created(context, slot, [], previous);
  context.event('Warning', 'Failed', `Error: ${message}`, slot);
  const at = timestamp(new Date(0));
  slot.instance = undefined;
  slot.state = { terminated: { exitCode: 128, reason: 'StartError', message, startedAt: at, finishedAt: timestamp(node.now()), containerID: `containerd://${context.uid.replace(/-/g, '')}${slot.restartCount}` } };
  slot.exit = slot.state.terminated;
  context.scheduleRestart(slot, 128, 0);
}

async function spawnReal(
  context: PodContext,
  slot: ContainerSlot,
  image: ResolvedImage,
  argv: string[],
  env: Array<[string, string]>,
  instanceDir: string,
): Promise<{ process: SandboxedProcess; tmp: string; pidNamespace?: PidNamespace } | string> {
  const support = context.node.sandbox();
  if (support.mode === 'unavailable') return `sandbox:${support.reason}`;
  const pod = context.pod();
  try {
    await context.prepareStorage();
    context.volumes.materialize(pod);
    context.scheduleTokenRefresh();
    const instance = instanceDirectories(instanceDir, context.identity);
    const volumeMounts = context.volumes.mountsFor(pod, slot.spec, instanceDir, env);
    const root = containerRootFor(context.node.paths.imagesDir, image, instanceDir, context.identity, context.user, str(slot.spec['workingDir']) ?? '/', volumeMounts);
    const path = env.find(([name]) => name === 'PATH')?.[1] ?? DEFAULT_PATH;
    const command = argv[0];
    if (command === undefined) return 'failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: no command specified: unknown';
    if (!findExecutable(command, path, volumeMounts, root)) {
      return `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: exec: "${command}": ${command.includes('/') ? 'stat ' + command + ': no such file or directory' : 'executable file not found in $PATH'}: unknown`;
    }
    const tty = slot.spec['tty'] === true ? { cols: 80, rows: 24 } : undefined;
    const spec = containerSandboxSpec({
      pod,
      container: slot.spec,
      argv,
      env,
      volumeMounts,
      etcMounts: podEtcFiles(pod, context.podDir, context.podIP()),
      instance,
      ...(root ? { root } : {}),
      ...(tty ? { tty } : {}),
    });
    if (support.mode === 'unsafe-local') {
      const process = await spawnSandboxed({ ...spec, env: { ...spec.env, TMPDIR: instance.tmp, HOME: instance.root } }, support);
      if (slot.spec['stdin'] !== true && !tty) process.endInput();
      return { process, tmp: instance.tmp };
    }
    // The container's command is PID 1 of a PID namespace of its own, unless the pod shares one
    // (shareProcessNamespace) or it is an ephemeral container with a target, which joins the target's.
    const target = slot.ephemeral ? str(slot.spec['targetContainerName']) : undefined;
    const targetPids = target ? context.pidNamespaceOf(target) : undefined;
    const ownPids = specOf(pod)['shareProcessNamespace'] !== true && targetPids === undefined;
    const inSandbox = await inPodSandbox(context, slot, { ...(await withServiceNetwork(context, spec)), ownPidNamespace: ownPids }, true);
    const joined = targetPids && inSandbox.pod ? { ...inSandbox, pod: { ...inSandbox.pod, pid: targetPids } } : inSandbox;
    const process = await spawnSandboxed(joined, support);
    const pidNamespace = joined.pod && ownPids ? await ownPidNamespace(process) : undefined;
    if (slot.spec['stdin'] !== true && !tty) process.endInput();
    return { process, tmp: instance.tmp, ...(pidNamespace ? { pidNamespace } : {}) };
  } catch (error) {
    if (error instanceof ContainerConfigError) return `config:${error.message}`;
    return `sandbox:${error instanceof Error ? error.message : String(error)}`;
  }
}
