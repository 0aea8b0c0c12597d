// The workbench shell through the Kubernetes exec subresource, with @kubernetes/client-node's Exec:
// a WebSocket to the API server (v5.channel.k8s.io, falling back to v4), stdin on channel 0,
// output on channel 1, the exit Status on channel 3, terminal sizes on channel 4. The same code
// reaches the embedded cluster and a real one; only the kubeconfig differs.

import { PassThrough, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { Exec, KubeConfig, type V1Status } from '@kubernetes/client-node';
import type { OpenShell, ShellEvents, TerminalSize, WorkbenchTarget } from './shell.ts';

/** A login shell in the workbench: the terminal bridge of the one portal keeps it (and its replay) itself. */
export const PLAIN_SHELL_COMMAND = ['bash', '-l'];
/**
 * The workbench image's `workbench-shell`, which keeps the learner's shell in one tmux session that
 * every terminal opened later finds again, whichever portal replica opens it; a plain login shell
 * in a workbench without it. For portals that may run as several replicas (LAB_CLUSTER=kubernetes).
 */
export const KEPT_SESSION_COMMAND = ['sh', '-c', 'command -v workbench-shell >/dev/null 2>&1 && exec workbench-shell; exec bash -l'];
/** An instructor's read-only view of the learner's kept session, from a replica that does not hold the learner's terminal. */
export const OBSERVE_SESSION_COMMAND = ['sh', '-c', 'command -v workbench-shell >/dev/null 2>&1 && exec workbench-shell --observe; echo "This workbench keeps no terminal session to show."; exit 1'];

/** The shell's output, decoded as UTF-8 (a chunk may end inside a multi-byte character). */
class TerminalOutput extends Writable {
  readonly #decoder = new StringDecoder('utf8');
  readonly #onText: (text: string) => void;

  constructor(onText: (text: string) => void) {
    super({ decodeStrings: true });
    this.#onText = onText;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    const text = this.#decoder.write(chunk);
    if (text.length > 0) this.#onText(text);
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    const rest = this.#decoder.end();
    if (rest.length > 0) this.#onText(rest);
    callback();
  }
}

const RESIZE_CHANNEL = 4;

/**
 * A channel-4 frame. The field names are Go's (remotecommand.TerminalSize): the kubelet's JSON
 * decoding ignores case, but a stricter server may not, and client-node sends them lower-case.
 */
function resizeFrame(size: TerminalSize): Buffer {
  return Buffer.concat([Buffer.from([RESIZE_CHANNEL]), Buffer.from(JSON.stringify({ Width: size.cols, Height: size.rows }))]);
}

function describeStatus(status: V1Status): { exitCode: number | null; message: string } {
  if (status.status === 'Success') return { exitCode: 0, message: 'The shell exited.' };
  const code = status.details?.causes?.find((cause) => cause.reason === 'ExitCode')?.message;
  const exitCode = code !== undefined && /^\d+$/.test(code) ? Number(code) : null;
  return { exitCode, message: exitCode !== null ? `The shell exited with code ${exitCode}.` : (status.message ?? 'The shell ended.') };
}

/** The learner's own cluster: read again at every open, since its process may have moved port. */
function ownCluster(file: string): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(file);
  return kubeConfig;
}

/**
 * Opens shells with the kubeconfig `kubeConfig()` returns at the time (an embedded cluster may have
 * restarted), or the target's own kubeconfig, running `command` where the target names none.
 */
export function execShells(kubeConfig: () => KubeConfig, command: string[] = PLAIN_SHELL_COMMAND): OpenShell {
  return async (target: WorkbenchTarget, size: TerminalSize, events: ShellEvents) => {
    const output = new TerminalOutput((text) => events.output(text));
    const input = new PassThrough();
    let exited = false;
    let status: { exitCode: number | null; message: string } | null = null;
    const exit = () => {
      if (exited) return;
      exited = true;
      input.destroy();
      events.exit(status ?? { exitCode: null, message: 'The connection to the workbench closed.', lost: true });
    };
    const socket = await new Exec(target.kubeconfig ? ownCluster(target.kubeconfig) : kubeConfig()).exec(
      target.namespace,
      target.pod,
      target.container,
      target.command ?? command,
      output,
      null,
      input,
      true,
      (received) => {
        status = describeStatus(received);
      },
    );
    socket.on('close', exit);
    socket.on('error', exit);
    let current = size;
    const sendSize = () => {
      if (!exited && socket.readyState === socket.OPEN) socket.send(resizeFrame(current));
    };
    sendSize();
    return {
      write: (data) => {
        if (!exited) input.write(data);
      },
      resize: (next) => {
        if (next.cols === current.cols && next.rows === current.rows) return;
        current = next;
        sendSize();
      },
      pause: () => socket.pause(),
      resume: () => socket.resume(),
      close: () => {
        if (exited) return;
        socket.close();
      },
    };
  };
}
