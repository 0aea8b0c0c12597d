// The kubelet's streaming endpoints behind the API server's connect hook: pods/log, pods/exec,
// pods/attach, pods/portforward (port-forward.ts) and pods/proxy (pod-proxy.ts), with the messages the API server and the
// kubelet give (a container name that must be chosen, a container that is waiting to start, no
// previous instance, no running container to exec into).
import type { ServerResponse } from 'node:http';
import type { ConnectHandler, ConnectRequest } from '../apiserver/index.ts';
import { StatusError, type KubeObject } from '../types.ts';
import type { ContainerSlot } from './container-slot.ts';
import { findExecutable } from './container-sandbox.ts';
import { ProcessContainer } from './containers.ts';
import { objects, specOf, str } from '../json.ts';
import { type ContainerLog, formatLogLine, type LogReadOptions, selectLines } from './logs.ts';
import type { PodWorker } from './pod-worker.ts';
import { spawnSandboxed, type SandboxSupport } from './sandbox/index.ts';
import { servePortForward } from './port-forward.ts';
import { servePodProxy } from './pod-proxy.ts';
import { acceptRemoteCommandStreams } from './remote-command-spdy.ts';
import { booleanParam, exitStatus, internalErrorStatus, streamOptions } from './streams.ts';

export interface ConnectContext {
  workerFor(pod: KubeObject): PodWorker | undefined;
  sandbox(): SandboxSupport;
}

function badRequest(message: string): StatusError {
  return new StatusError({ code: 400, reason: 'BadRequest', message });
}

/** validateContainer of the API server's pod strategy. */
function chooseContainer(pod: KubeObject, requested: string | null): string {
  const spec = specOf(pod);
  const containers = objects(spec['containers']);
  const all = [...objects(spec['initContainers']), ...containers, ...objects(spec['ephemeralContainers'])].map((c) => str(c['name']) ?? '');
  const name = pod.metadata.name ?? '';
  if (!requested) {
    if (containers.length === 1) return str(containers[0]?.['name']) ?? '';
    if (containers.length === 0) throw badRequest(`a container name must be specified for pod ${name}`);
    throw badRequest(`a container name must be specified for pod ${name}, choose one of: [${all.join(' ')}]`);
  }
  if (!all.includes(requested)) throw badRequest(`container ${requested} is not valid for pod ${name}`);
  return requested;
}

function integerParam(query: URLSearchParams, name: string, minimum: number): number | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value)) throw badRequest(`${name}: invalid value "${raw}": must be an integer`);
  if (value < minimum) {
    throw new StatusError({
      code: 422,
      reason: 'Invalid',
      message: `PodLogOptions "" is invalid: ${name}: Invalid value: ${value}: must be greater than ${minimum === 0 ? 'or equal to 0' : String(minimum - 1)}`,
    });
  }
  return value;
}

/** The log `kubectl logs` reads for a container, or the kubelet's reason there is none (validateContainerLogStatus). */
function chooseLog(pod: KubeObject, container: string, slot: ContainerSlot | undefined, previous: boolean): ContainerLog {
  const podName = pod.metadata.name ?? '';
  if (!slot) throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: ContainerCreating`);
  if (previous) {
    const log = slot.lastState?.containerID ? slot.previousLog : undefined;
    if (!log) throw badRequest(`previous terminated container "${container}" in pod "${podName}" not found`);
    return log;
  }
  if ('running' in slot.state || 'terminated' in slot.state || slot.lastState) {
    const log = slot.currentLog;
    if (log) return log;
    throw badRequest(`container "${container}" in pod "${podName}" is terminated`);
  }
  const reason = slot.state.waiting.reason;
  if (reason === 'ErrImagePull') throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: image can't be pulled`);
  if (reason === 'ImagePullBackOff') throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: trying and failing to pull image`);
  throw badRequest(`container "${container}" in pod "${podName}" is waiting to start: ${reason}`);
}

function serveLog(request: ConnectRequest, context: ConnectContext, res: ServerResponse): void {
  const pod = request.object;
  const { query } = request;
  const container = chooseContainer(pod, query.get('container'));
  const sinceSeconds = integerParam(query, 'sinceSeconds', 1);
  const sinceTime = query.get('sinceTime');
  if (sinceSeconds !== undefined && sinceTime) throw badRequest('at most one of `sinceTime` or `sinceSeconds` may be specified');
  const tailLines = integerParam(query, 'tailLines', 0);
  const limitBytes = integerParam(query, 'limitBytes', 1);
  const follow = booleanParam(query, 'follow');
  const options: LogReadOptions = {
    ...(tailLines !== undefined ? { tailLines } : {}),
    timestamps: booleanParam(query, 'timestamps'),
    ...(limitBytes !== undefined ? { limitBytes } : {}),
  };
  if (sinceSeconds !== undefined) options.sinceMs = Date.now() - sinceSeconds * 1000;
  if (sinceTime) {
    const at = Date.parse(sinceTime);
    if (Number.isNaN(at)) throw badRequest(`sinceTime: invalid value "${sinceTime}": must be an RFC 3339 time`);
    options.sinceMs = at;
  }
  if (!str(specOf(pod)['nodeName'])) {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end();
    return;
  }
  const worker = context.workerFor(pod);
  const slot = worker?.findContainer(container);
  const log = chooseLog(pod, container, slot, booleanParam(query, 'previous'));

  res.writeHead(200, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache, private' });
  let remaining = options.limitBytes ?? Infinity;
  const write = (text: string): boolean => {
    if (remaining <= 0) return false;
    const bytes = Buffer.from(text);
    const part = bytes.length > remaining ? bytes.subarray(0, remaining) : bytes;
    remaining -= part.length;
    res.write(part);
    return remaining > 0;
  };
  for (const line of selectLines(log.lines(), options)) if (!write(formatLogLine(line, options.timestamps))) break;
  if (!follow || log.closed || remaining <= 0) {
    res.end();
    return;
  }
  const stop = log.follow(
    (line) => {
      if (options.sinceMs !== undefined && line.ms < options.sinceMs) return;
      if (!write(formatLogLine(line, options.timestamps))) {
        stop();
        res.end();
      }
    },
    () => res.end(),
  );
  res.on('close', stop);
}

/**
 * The kubelet answers a failed exec or attach with plain text (streaming.WriteError), which the
 * API server passes through: kubectl prints it as "unable to upgrade connection: <text>".
 */
function kubeletError(request: ConnectRequest, message: string): void {
  const body = `${message}\n`;
  if (request.upgrade) {
    const { socket } = request.upgrade;
    if (socket.writable) socket.end(`HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
    return;
  }
  request.res?.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end(body);
}

function validateStream(request: ConnectRequest): { container: string; options: ReturnType<typeof streamOptions> } {
  const pod = request.object;
  const container = chooseContainer(pod, request.query.get('container'));
  if (!str(specOf(pod)['nodeName'])) throw badRequest(`pod ${pod.metadata.name ?? ''} does not have a host assigned`);
  const options = streamOptions(request.query);
  if (!options.stdin && !options.stdout && !options.stderr) throw badRequest('you must specify at least 1 of stdin, stdout, stderr');
  return { container, options };
}

async function serveExec(request: ConnectRequest, context: ConnectContext): Promise<void> {
  const { container, options } = validateStream(request);
  const command = request.query.getAll('command');
  if (command.length === 0) throw badRequest('you must specify at least 1 command');
  // kubectl ≥ 1.30 retries a refused WebSocket upgrade over SPDY: both must give the same reason.
  const slot = context.workerFor(request.object)?.findContainer(container);
  if (!slot?.running) return kubeletError(request, `container not found ("${container}")`);
  const support = context.sandbox();
  if (support.mode === 'unavailable') throw new StatusError({ code: 503, reason: 'ServiceUnavailable', message: `shells are disabled on this cluster: ${support.reason}` });
  const worker = context.workerFor(request.object) as PodWorker;
  const spec = await worker.execSandbox(slot, command, options.tty ? { cols: 80, rows: 24 } : undefined, true);
  if (typeof spec === 'string') throw new StatusError({ code: 500, reason: 'InternalError', message: spec });
  const session = await acceptRemoteCommandStreams(request, options);
  if (!session) return;
  const executable = command[0] ?? '';
  if (!findExecutable(executable, spec.env['PATH'] ?? '', spec.mounts, spec.root)) {
    session.finish(
      internalErrorStatus(
        `error executing command in container: failed to exec in container: failed to start exec "${slot.instance?.containerID.slice(13, 77) ?? ''}": OCI runtime exec failed: exec failed: unable to start container process: exec: "${executable}": ${executable.includes('/') ? `stat ${executable}: no such file or directory` : 'executable file not found in $PATH'}: unknown`,
      ),
    );
    return;
  }
  let process;
  try {
    process = await spawnSandboxed(spec, support);
  } catch (error) {
    session.finish(internalErrorStatus(`error executing command in container: ${error instanceof Error ? error.message : String(error)}`));
    return;
  }
  slot.sessions.add(process);
  process.onOutput((stream, data) => {
    if (stream === 'stderr' && options.stderr) session.stderr(data);
    else if (options.stdout || options.tty) session.stdout(data);
  });
  const running = process;
  session.handle({
    stdin: (data) => running.write(data),
    stdinEnd: () => running.endInput(),
    resize: (cols, rows) => running.resize(cols, rows),
    // A dropped connection is a hang-up: bash saves its history and exits; the session's processes
    // that linger are killed. A daemon that left the session (a workbench's tmux server) stays in
    // the container, as under a container runtime.
    closed: () => {
      running.hangUp();
      setTimeout(() => running.kill('SIGKILL'), 2000).unref();
    },
  });
  if (!options.stdin && !options.tty) process.endInput();
  const exit = await process.exited;
  slot.sessions.delete(process);
  // A terminal's last output can trail its exit by a moment.
  if (options.tty) await new Promise((resolve) => setTimeout(resolve, 10));
  session.finish(exitStatus(exit.exitCode, command));
}

async function serveAttach(request: ConnectRequest, context: ConnectContext): Promise<void> {
  const { container, options } = validateStream(request);
  const pod = request.object;
  const slot = context.workerFor(pod)?.findContainer(container);
  const instance = slot?.instance;
  if (!slot || !instance?.running) return kubeletError(request, `container ${container} not found in pod ${pod.metadata.name ?? ''}_${pod.metadata.namespace ?? ''}`);
  const session = await acceptRemoteCommandStreams(request, options);
  if (!session) return;
  // The container ended while the client opened its streams: the attach fails as the runtime's
  // does on an exited container, and kubectl run -it falls back to the container's log.
  if (!instance.running) {
    session.finish(internalErrorStatus('error attaching to container: container is in CONTAINER_EXITED state'));
    return;
  }
  const stdinOnce = slot.spec['stdinOnce'] === true;
  let detach: () => void;
  if (instance instanceof ProcessContainer) {
    const process = instance.process;
    const acceptsInput = options.stdin && slot.spec['stdin'] === true;
    detach = instance.attachOutput((stream, data) => {
      if (stream === 'stderr' && options.stderr) session.stderr(data);
      else if (options.stdout || options.tty) session.stdout(data);
    });
    session.handle({
      stdin: (data) => {
        if (acceptsInput) process.write(data);
      },
      stdinEnd: () => {
        if (acceptsInput && stdinOnce) process.endInput();
      },
      resize: (cols, rows) => process.resize(cols, rows),
      closed: () => {
        detach();
        if (acceptsInput && stdinOnce) process.endInput();
      },
    });
  } else {
    detach = instance.log.follow(
      (line) => (line.stream === 'stderr' && options.stderr ? session.stderr(Buffer.from(line.text)) : session.stdout(Buffer.from(line.text))),
      () => {},
    );
    session.handle({ stdin: () => {}, stdinEnd: () => {}, resize: () => {}, closed: () => detach() });
  }
  await instance.exited;
  detach();
  session.finish({ metadata: {}, status: 'Success' });
}

export function createConnectHandler(context: ConnectContext): ConnectHandler {
  return async (request) => {
    switch (request.subresource) {
      case 'log':
        if (!request.res) throw badRequest('pods/log is a plain GET, not an upgrade');
        serveLog(request, context, request.res);
        return;
      case 'exec':
        return serveExec(request, context);
      case 'attach':
        return serveAttach(request, context);
      case 'portforward':
        return servePortForward(request, context.workerFor(request.object));
      case 'proxy':
        if (request.def.resource === 'pods') return servePodProxy(request, context.workerFor(request.object));
        throw badRequest(`${request.def.resource}/proxy is not supported by this cluster; use kubectl port-forward, or a pod and the Service's DNS name`);
      default:
        throw badRequest(`pods/${request.subresource} is not supported by this cluster's simulated kubelet; use kubectl exec, or a Service and the workbench`);
    }
  };
}
