// Creating a container instance once its image is there: the environment (env, envFrom, the
// downward API), the command line (the image's entrypoint and cmd under the spec's command and
// args), then either a real process in the sandbox (shell images, shell commands) or a simulated
// server from the image catalog. The waiting and terminated states a failed start leaves are
// upstream's (CreateContainerConfigError, CreateContainerError, StartError).
import { rmSync } from 'node:fs';
import { join, posix } from 'node:path';
import { containerRootFor, containerSandboxSpec, DEFAULT_PATH, findExecutable, imageProgramMounts, imageRootFor, instanceDirectories, podEtcFiles } from './container-sandbox.ts';
import type { ContainerSlot } from './container-slot.ts';
import { inPodSandbox, withServiceNetwork } from './container-exec.ts';
import { type ContainerInstance, ProcessContainer, SimulatedContainer } from './containers.ts';
import { ContainerConfigError, containerEnvironment, expand } from './environment.ts';
import { type Json, objects, specOf, statusOf, str, strings } from '../json.ts';
import { timestamp } from './format.ts';
import { behaviourOf, type ImageBehaviour, type ResolvedImage, versionOf } from './images/index.ts';
import { htmlDocuments } from './html-documents.ts';
import { nginxConfig } from './nginx-config.ts';
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

/**
 * What runs for real: shell images; a service image whose command or args name a program it has
 * other than its own server (`kubectl run --image=nginx -- env`); an unknown image running a shell
 * or a simple utility. Otherwise the catalog's simulated server runs.
 */
export function runsForReal(image: ResolvedImage, spec: Json, hasProgram: (program: string) => boolean): boolean {
  const catalog = image.catalog;
  const kind = catalog?.kind;
  if (kind === 'shell') return true;
  if (kind === 'workbench') return false;
  const command = strings(spec['command']);
  const args = strings(spec['args']);
  if (kind === 'service') {
    const program = command[0] ?? args[0];
    // Flags and subcommands are the server's own arguments (`--http-port=8080`, agnhost's `netexec`).
    if (program === undefined || program.startsWith('-')) return false;
    if (command.length === 0 && catalog?.subcommands?.[program]) return false;
    if (catalog?.servers?.includes(basename(program))) return false;
    return hasProgram(program);
  }
  const first = command[0] ?? (kind === undefined ? args[0] : undefined);
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
  const hasProgram = (program: string) => {
    // A program in one of the container's volumes (a script from a ConfigMap) is there once mounted.
    const mountPaths = objects(slot.spec['volumeMounts']).map((mount) => str(mount['mountPath']) ?? '');
    if (mountPaths.some((path) => path !== '' && program.startsWith(`${path.replace(/\/$/, '')}/`))) return true;
    const root = imageRootFor(context.node.paths.imagesDir, image);
    return findExecutable(program, envMap.get('PATH') ?? DEFAULT_PATH, imageProgramMounts(image, context.node.paths.imagesDir), root ? { writable: root.dir, readOnly: [] } : undefined);
  };
  if (runsForReal(image, slot.spec, hasProgram)) {
    const spawned = await spawnReal(context, slot, image, argv, environment.env, instanceDir);
    if (typeof spawned === 'string') {
      startFailed(context, slot, spawned, previous);
      return undefined;
    }
    created(context, slot, environment.env, previous);
    return new ProcessContainer(spawned.process, spawned.createdAt, spawned.tmp, () => node.now(), () => node.logLimit(), spawned.pidNamespace);
  }
  if (image.catalog?.kind === 'workbench') {
    // The workbench is only ever used through its shell: its file system (HOME, /tmp) is made
    // before it starts, so a node whose disk cannot hold it leaves it waiting with the reason
    // instead of Ready with a shell that cannot open.
    try {
      await context.prepareStorage();
    } catch (error) {
      startFailed(context, slot, `sandbox:${error instanceof Error ? error.message : String(error)}`, previous);
      return undefined;
    }
  }
  const behaviour = behaviourWithPort(image, args);
  const requirement = image.catalog?.requiredEnv;
  const failure = requirement && !requirement.anyOf.some((name) => (envMap.get(name) ?? '') !== '') ? { logs: requirement.logs, exitCode: requirement.exitCode } : undefined;
  const limit = memoryLimitBytes(slot);
  const memory = simulatedUsage(pod, first, slot, behaviour).memoryBytes;
  let documents;
  let config;
  try {
    documents = await documentsOf(context, slot, image, instanceDir, environment.env);
    config = await nginxConfigOf(context, slot, image, instanceDir, environment.env);
  } catch (error) {
    if (!(error instanceof ContainerConfigError)) throw error;
    startFailed(context, slot, `config:${error.message}`, previous);
    return undefined;
  }
  created(context, slot, environment.env, previous);
  const configFailure = config && 'failure' in config ? { logs: [config.failure], exitCode: 1 } : undefined;
  return new SimulatedContainer({
    ...(documents ? { documents } : {}),
    ...(config && 'listening' in config ? { listening: config.listening } : {}),
    behaviour: image.catalog ? behaviour : undefined,
    templates: { hostname: str(specOf(pod)['hostname']) ?? pod.metadata.name ?? '', version: versionOf(image), podIP: context.podIP() ?? '', port: String(behaviour?.httpPort ?? '') },
    env: envMap,
    ...(failure || configFailure ? { failure: failure ?? configFailure } : {}),
    ...(limit !== undefined && memory > limit ? { oomAfterMs: node.scaled(OOM_AFTER_MS) } : {}),
    now: () => node.now(),
    logLimit: () => node.logLimit(),
    scaled: (ms) => node.scaled(ms),
    tmpDir: join(instanceDir, 'tmp'),
  });
}

/** nginx's 404 page, as its error pages read. */
function notFoundPage(version: string): string {
  return `<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx/${version}</center>\r\n</body>\r\n</html>\r\n`;
}

/** A web server with volumes in its document root serves their files (an init container's, a ConfigMap's). */
async function documentsOf(context: PodContext, slot: ContainerSlot, image: ResolvedImage, instanceDir: string, env: Array<[string, string]>) {
  const documentRoot = image.catalog?.documentRoot;
  if (!documentRoot) return undefined;
  const targets = objects(slot.spec['volumeMounts']).map((mount) => posix.normalize(str(mount['mountPath']) ?? '/'));
  if (!targets.some((target) => target === documentRoot || target.startsWith(`${documentRoot}/`) || documentRoot.startsWith(`${target}/`))) return undefined;
  const pod = context.pod();
  await context.prepareStorage();
  context.volumes.materialize(pod);
  const mounts = context.volumes.mountsFor(pod, slot.spec, instanceDir, env);
  const ownPage = image.catalog?.behaviour?.http?.['/index.html']?.body ?? '';
  return htmlDocuments(documentRoot, mounts, ownPage, notFoundPage(versionOf(image)));
}

/** Where nginx listens as its configuration says (HTTP, and HTTPS with certificates from its volumes); undefined: the image's ports. */
async function nginxConfigOf(context: PodContext, slot: ContainerSlot, image: ResolvedImage, instanceDir: string, env: Array<[string, string]>) {
  if (!image.catalog?.servers?.includes('nginx')) return undefined;
  const files = behaviourOf(image, [])?.files ?? {};
  // Only volumes under /etc/nginx can hold its configuration or certificates: others need no storage made for them.
  const mounted = objects(slot.spec['volumeMounts']).some((mount) => posix.normalize(`/${str(mount['mountPath']) ?? ''}`).startsWith('/etc/nginx'));
  if (!mounted) return nginxConfig([], files);
  const pod = context.pod();
  await context.prepareStorage();
  context.volumes.materialize(pod);
  return nginxConfig(context.volumes.mountsFor(pod, slot.spec, instanceDir, env), files);
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
): Promise<{ process: SandboxedProcess; createdAt: Date; tmp: string; pidNamespace?: PidNamespace } | string> {
  const support = context.node.sandbox();
  if (support.mode === 'unavailable') return `sandbox:${support.reason}`;
  const pod = context.pod();
  try {
    await context.prepareStorage();
    context.volumes.materialize(pod);
    context.scheduleTokenRefresh();
    const instance = instanceDirectories(instanceDir, context.identity);
    // The image's own program names first: a volume mounted over them hides them, as it would the image's files.
    const volumeMounts = [...imageProgramMounts(image, context.node.paths.imagesDir), ...context.volumes.mountsFor(pod, slot.spec, instanceDir, env)];
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
      etcMounts: podEtcFiles(pod, context.podDir, context.podIP(), (message) => context.event('Warning', 'DNSConfigForming', message)),
      instance,
      ...(root ? { root } : {}),
      ...(tty ? { tty } : {}),
    });
    if (support.mode === 'unsafe-local') {
      const createdAt = context.node.now();
      const process = await spawnSandboxed({ ...spec, env: { ...spec.env, TMPDIR: instance.tmp, HOME: instance.root } }, support);
      if (slot.spec['stdin'] !== true && !tty) process.endInput();
      return { process, createdAt, tmp: instance.tmp };
    }
    // The container's command is PID 1 of a PID namespace of its own, unless the pod shares one
    // (shareProcessNamespace) or it is an ephemeral container with a target, which joins the target's.
    const target = slot.ephemeral ? str(slot.spec['targetContainerName']) : undefined;
    const targetPids = target ? context.pidNamespaceOf(target) : undefined;
    const ownPids = specOf(pod)['shareProcessNamespace'] !== true && targetPids === undefined;
    const inSandbox = await inPodSandbox(context, slot, { ...(await withServiceNetwork(context, spec)), ownPidNamespace: ownPids }, true);
    const joined = targetPids && inSandbox.pod ? { ...inSandbox, pod: { ...inSandbox.pod, pid: targetPids } } : inSandbox;
    // A new instance's working set is its own, as in the cgroup a runtime makes for each instance.
    await joined.cgroup?.reclaimMemory();
    // Before the process's cgroup is made: its CPU counter, setup included, counts from here.
    const createdAt = context.node.now();
    const process = await spawnSandboxed(joined, support);
    const pidNamespace = joined.pod && ownPids ? await ownPidNamespace(process) : undefined;
    if (slot.spec['stdin'] !== true && !tty) process.endInput();
    return { process, createdAt, tmp: instance.tmp, ...(pidNamespace ? { pidNamespace } : {}) };
  } catch (error) {
    if (error instanceof ContainerConfigError) return `config:${error.message}`;
    return `sandbox:${error instanceof Error ? error.message : String(error)}`;
  }
}
