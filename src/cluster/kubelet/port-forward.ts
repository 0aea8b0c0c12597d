// pods/portforward as the kubelet serves it, in its three forms:
// - SPDY/3.1 (`portforward.k8s.io`, kubectl ≤ 1.30): the client opens an error stream and a data
//   stream for every local connection, both naming the pod's `port` and the same `requestID`; the
//   pair is forwarded to a new connection to that port, and a failure is written as text on the
//   error stream (upstream's "error forwarding port …" words).
// - SPDY tunnelled in WebSocket (`SPDY/3.1+portforward.k8s.io`, kubectl ≥ 1.31): the same SPDY
//   bytes in binary WebSocket messages.
// - WebSocket channels (`v4.channel.k8s.io`, the Python and JavaScript clients): `?ports=` names the
//   ports; port i gets data channel 2i and error channel 2i+1, each opened with the port number
//   (two bytes, little-endian), and one connection for the session.
// Connections go to the pod through dialPodPort, the one place that knows how a pod is reached:
// inside its network namespace when the node has the pod network, else its simulated server.
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { duplexPair, type Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { ConnectRequest } from '../apiserver/index.ts';
import { acceptSpdy, SpdyConnection, type SpdyStream } from '../apiserver/spdy/index.ts';
import { StatusError, type KubeObject } from '../types.ts';
import { specOf, str } from '../json.ts';
import type { PodWorker } from './pod-worker.ts';
import { isWebSocketUpgrade } from './streams.ts';
import { webSocketServer, webSocketStream } from './websocket-server.ts';

export const PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
const TUNNEL_PROTOCOL = `SPDY/3.1+${PORT_FORWARD_PROTOCOL}`;
const websocketProtocols = [TUNNEL_PROTOCOL, 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io'];
/** How long the second stream of a pair may keep the first waiting (the kubelet's streamCreationTimeout). */
const STREAM_PAIR_TIMEOUT_MS = 30_000;
/** Ports one WebSocket session may name. */
const MAX_WEBSOCKET_PORTS = 16;
/**
 * Connections forwarded into one pod at once, over all sessions: each is a process on the node
 * (socat in the pod's network namespace), which a learner must not be able to multiply at will.
 */
const MAX_FORWARDS_PER_POD = 64;
const forwardsOpen = new WeakMap<PodWorker, number>();

function badRequest(message: string): StatusError {
  return new StatusError({ code: 400, reason: 'BadRequest', message });
}

/** The container runtime's name for the pod's sandbox: a stable 64-hex id, and the network namespace it owns. */
function podSandbox(pod: KubeObject): { id: string; netns: string } {
  const digest = createHash('sha256').update(`sandbox/${pod.metadata.uid ?? ''}`).digest('hex');
  const uuid = `${digest.slice(0, 8)}-${digest.slice(8, 12)}-${digest.slice(12, 16)}-${digest.slice(16, 20)}-${digest.slice(20, 32)}`;
  return { id: digest, netns: `/var/run/netns/cni-${uuid}` };
}

function listens(worker: PodWorker, port: number): boolean {
  return [...worker.containers, ...worker.init].some((slot) => slot.instance?.running === true && slot.instance.listens(port));
}

/** The pods' simulated servers, answering HTTP on connections that never leave this process. */
const simulatedServers = createServer((req: IncomingMessage, res: ServerResponse) => {
  const target = dialled.get(req.socket);
  const answer = target?.worker.serveHttp(target.port, req.url ?? '/', '127.0.0.1', String(req.headers['user-agent'] ?? 'curl'));
  if (!answer) {
    req.socket.destroy();
    return;
  }
  const body = Buffer.from(answer.body);
  res.writeHead(answer.status, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Length': body.length, Server: 'formicary-simulated' });
  res.end(req.method === 'HEAD' ? undefined : body);
});
const dialled = new WeakMap<object, { worker: PodWorker; port: number }>();

/**
 * A TCP connection to `port` inside the pod, as the runtime makes one from the pod's network
 * namespace to localhost: through the pod network where the node has one (a failure to connect
 * surfaces as the stream's error), else an in-process pipe to the simulated server that listens
 * on the port.
 */
export async function dialPodPort(pod: KubeObject, worker: PodWorker, port: number): Promise<Duplex> {
  const open = forwardsOpen.get(worker) ?? 0;
  if (open >= MAX_FORWARDS_PER_POD) throw new Error(`too many forwarded connections to this pod at once (at most ${MAX_FORWARDS_PER_POD})`);
  const connection = (await worker.openPort(port)) ?? simulatedConnection(worker, port);
  forwardsOpen.set(worker, open + 1);
  connection.once('close', () => {
    const left = (forwardsOpen.get(worker) ?? 1) - 1;
    if (left > 0) forwardsOpen.set(worker, left);
    else forwardsOpen.delete(worker);
  });
  return connection;
}

function simulatedConnection(worker: PodWorker, port: number): Duplex {
  if (!listens(worker, port)) throw new Error('connect: connection refused');
  const [ours, theirs] = duplexPair();
  dialled.set(theirs, { worker, port });
  simulatedServers.emit('connection', theirs);
  return ours;
}

/** Upstream's words for a failed forward: the kubelet's prefix around containerd's reason. */
function forwardingError(pod: KubeObject, port: number, error: unknown): string {
  const reason = error instanceof Error ? error.message : String(error);
  const sandbox = podSandbox(pod);
  const runtime = /connection refused/i.test(reason)
    ? `failed to connect to localhost:${port} inside namespace "${sandbox.id}", IPv4: dial tcp4 127.0.0.1:${port}: connect: connection refused IPv6 dial tcp6 [::1]:${port}: connect: connection refused `
    : reason;
  return `error forwarding port ${port} to pod ${sandbox.id}, uid : failed to execute portforward in network namespace "${sandbox.netns}": ${runtime}`;
}

/** Copies both ways; resolves when the pod's side is done, rejects with its error (a refused connection among them). */
function splice(client: Duplex, target: Duplex): Promise<void> {
  return new Promise((resolve, reject) => {
    client.pipe(target);
    target.pipe(client, { end: false });
    const done = (error?: Error) => {
      client.unpipe(target);
      target.unpipe(client);
      if (error) reject(error);
      else resolve();
    };
    target.once('end', () => done());
    target.once('close', () => done());
    target.once('error', (error: Error) => done(error));
    client.once('error', () => target.destroy());
    client.once('close', () => target.destroy());
  });
}

async function forwardPair(pod: KubeObject, worker: PodWorker, port: number, data: SpdyStream, error: SpdyStream): Promise<void> {
  try {
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`invalid port ${JSON.stringify(data.header('port') ?? '')}`);
    const target = await dialPodPort(pod, worker, port);
    await splice(data, target);
    data.end();
  } catch (failure) {
    error.write(forwardingError(pod, port, failure));
    data.end();
  }
  error.end();
}

/** The kubelet's SPDY port-forward handler: streams paired by requestID, each pair one forwarded connection. */
function serveSpdyPortForward(connection: SpdyConnection, pod: KubeObject, worker: PodWorker): void {
  const pairs = new Map<string, { data?: SpdyStream; error?: SpdyStream; timer: NodeJS.Timeout }>();
  connection.on('stream', (stream) => {
    const type = stream.header('streamtype');
    if (type !== 'data' && type !== 'error') {
      stream.reset();
      return;
    }
    // Clients from before requestID pair an error stream with the data stream opened right after it.
    const requestID = stream.header('requestid') ?? String(type === 'error' ? stream.id : stream.id - 2);
    stream.reply();
    let pair = pairs.get(requestID);
    if (!pair) {
      const timer = setTimeout(() => {
        const waiting = pairs.get(requestID);
        pairs.delete(requestID);
        waiting?.error?.end(`(conn=${connection.closed ? 'closed' : 'open'}, request=${requestID}) timed out waiting for streams`);
        waiting?.data?.reset();
      }, STREAM_PAIR_TIMEOUT_MS);
      timer.unref();
      pair = { timer };
      pairs.set(requestID, pair);
    }
    if (pair[type]) {
      stream.reset();
      return;
    }
    pair[type] = stream;
    if (pair.data && pair.error) {
      clearTimeout(pair.timer);
      pairs.delete(requestID);
      void forwardPair(pod, worker, Number(pair.data.header('port')), pair.data, pair.error);
    }
  });
  connection.on('close', () => {
    for (const pair of pairs.values()) clearTimeout(pair.timer);
    pairs.clear();
  });
}

/** `ports` as the API server converts PodPortForwardOptions: repeated or comma-separated, each a port. */
function requestedPorts(query: URLSearchParams): number[] {
  const values = query.getAll('ports').flatMap((value) => value.split(','));
  if (values.length === 0) throw badRequest('query parameter "port" is required');
  if (values.length > MAX_WEBSOCKET_PORTS) throw badRequest(`at most ${MAX_WEBSOCKET_PORTS} ports may be forwarded at once`);
  return values.map((value) => {
    if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw badRequest(`cannot convert to []int32: strconv.ParseUint: parsing ${JSON.stringify(value)}: invalid syntax`);
    if (Number(value) === 0) throw badRequest(`"${value}" is not a valid port`);
    return Number(value);
  });
}

/** The WebSocket channel form: data on 2i, errors on 2i+1, every channel opened with its port. */
function serveChannelPortForward(socket: WebSocket, base64: boolean, ports: number[], pod: KubeObject, worker: PodWorker): void {
  // One message is written after the other has left: the Python client reads one message each
  // time its TLS socket turns readable, so two messages in one TLS record would leave the second
  // unread until more arrives (upstream's writes, one per goroutine, never share a record).
  const outbox: Array<Buffer | string> = [];
  let writing = false;
  let closing = false;
  const pump = () => {
    const message = outbox.shift();
    if (message === undefined || socket.readyState !== socket.OPEN) {
      writing = false;
      if (closing && socket.readyState === socket.OPEN) socket.close(1000);
      return;
    }
    writing = true;
    socket.send(message, () => pump());
  };
  const send = (channel: number, payload: Buffer) => {
    outbox.push(base64 ? `${String.fromCharCode(0x30 + channel)}${payload.toString('base64')}` : Buffer.concat([Buffer.from([channel]), payload]));
    if (!writing) pump();
  };
  const targets: Array<Duplex | undefined> = [];
  const early: Array<Buffer[]> = ports.map(() => []);
  socket.on('message', (message: Buffer) => {
    if (message.length === 0) return;
    const first = message[0] ?? 0;
    const channel = base64 ? first - 0x30 : first;
    const payload = base64 ? Buffer.from(message.subarray(1).toString('latin1'), 'base64') : message.subarray(1);
    if (channel % 2 !== 0 || channel / 2 >= ports.length) return;
    const index = channel / 2;
    const target = targets[index];
    if (target) target.write(payload);
    else early[index]?.push(Buffer.from(payload));
  });
  const sessions = ports.map(async (port, index) => {
    const portBytes = Buffer.alloc(2);
    portBytes.writeUInt16LE(port, 0);
    send(index * 2, portBytes);
    send(index * 2 + 1, portBytes);
    try {
      const target = await dialPodPort(pod, worker, port);
      targets[index] = target;
      for (const chunk of early[index]?.splice(0) ?? []) target.write(chunk);
      // What the pod writes at once goes as one message: the Python client reads one message for
      // each time its socket turns readable, and messages that arrive together would wait.
      const pending: Buffer[] = [];
      const flush = () => {
        if (pending.length > 0) send(index * 2, Buffer.concat(pending.splice(0)));
      };
      target.on('data', (chunk: Buffer) => {
        if (pending.push(chunk) === 1) setImmediate(flush);
      });
      await new Promise<void>((resolve) => {
        const done = () => {
          flush();
          resolve();
        };
        target.once('end', done);
        target.once('close', done);
        target.once('error', (error: Error) => {
          flush();
          send(index * 2 + 1, Buffer.from(forwardingError(pod, port, error)));
          resolve();
        });
        socket.once('close', () => {
          target.destroy();
          resolve();
        });
      });
    } catch (failure) {
      send(index * 2 + 1, Buffer.from(forwardingError(pod, port, failure)));
    }
  });
  void Promise.all(sessions).then(() => {
    closing = true;
    if (!writing) pump();
  });
}

const websocketServer = webSocketServer({
  noServer: true,
  perMessageDeflate: false,
  clientTracking: false,
  handleProtocols: (offered: Set<string>) => {
    for (const protocol of offered) if (websocketProtocols.includes(protocol)) return protocol;
    return false;
  },
});

/** pods/portforward: the pod must be on a node; then whichever of the three forms the client asks for. */
export async function servePortForward(request: ConnectRequest, worker: PodWorker | undefined): Promise<void> {
  const pod = request.object;
  if (!request.upgrade) throw badRequest('unable to upgrade: missing upgrade headers in request');
  if (!str(specOf(pod)['nodeName'])) throw badRequest(`pod ${pod.metadata.name ?? ''} does not have a host assigned`);
  if (!worker) throw new StatusError({ code: 404, reason: 'NotFound', message: 'pod does not exist' });
  const { socket, head } = request.upgrade;
  if (isWebSocketUpgrade(request.req)) {
    const tunnelled = String(request.req.headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .some((protocol) => protocol.trim() === TUNNEL_PROTOCOL);
    const ports = tunnelled ? [] : requestedPorts(request.query);
    websocketServer().handleUpgrade(request.req, socket, head, (ws) => {
      ws.binaryType = 'nodebuffer';
      if (ws.protocol === TUNNEL_PROTOCOL) {
        serveSpdyPortForward(new SpdyConnection(webSocketStream(ws)), pod, worker);
      } else serveChannelPortForward(ws, ws.protocol.includes('base64'), ports, pod, worker);
    });
    return;
  }
  const upgraded = acceptSpdy(request.req, socket, head, [PORT_FORWARD_PROTOCOL]);
  if (upgraded) serveSpdyPortForward(upgraded.connection, pod, worker);
}
