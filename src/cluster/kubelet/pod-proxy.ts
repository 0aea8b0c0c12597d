// pods/proxy: the API server's HTTP proxy to a pod (`/api/v1/namespaces/NS/pods/NAME:PORT/proxy/PATH`,
// what `kubectl proxy` plus curl reach in "Learn Kubernetes Basics"). As upstream's pod strategy
// (ResourceLocation): the port named in the URL, else the first container's first port, else the
// scheme's; a pod without an IP is refused. The connection is made as port-forward makes one
// (dialPodPort), the request's own headers go along without the caller's credentials.
import http, { type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import type { ConnectRequest } from '../apiserver/index.ts';
import { StatusError } from '../types.ts';
import { num, objects, specOf, statusOf, str } from '../json.ts';
import type { PodWorker } from './pod-worker.ts';
import { dialPodPort } from './port-forward.ts';

/** Hop-by-hop headers (RFC 9110 §7.6.1) and the caller's credentials stay on this side. */
const dropped = new Set(['authorization', 'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function forwarded(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !dropped.has(name)) out[name] = value;
  return out;
}

function unreachable(address: string, reason: string): StatusError {
  return new StatusError({ code: 503, reason: 'ServiceUnavailable', message: `error trying to reach service: dial tcp ${address}: ${reason}` });
}

function defaultPort(request: ConnectRequest): string {
  for (const container of objects(specOf(request.object)['containers'])) {
    const first = num(objects(container['ports'])[0]?.['containerPort']);
    if (first !== undefined) return String(first);
  }
  return '';
}

export async function servePodProxy(request: ConnectRequest, worker: PodWorker | undefined): Promise<void> {
  const { res, req, object: pod } = request;
  if (!res) throw new StatusError({ code: 400, reason: 'BadRequest', message: 'pods/proxy does not upgrade connections here' });
  const target = request.proxy ?? { scheme: '', port: '', path: '/' };
  const podIP = str(objects(statusOf(pod)['podIPs'])[0]?.['ip']) ?? str(statusOf(pod)['podIP']);
  if (!podIP) throw new StatusError({ code: 400, reason: 'BadRequest', message: 'address not allowed' });
  const https = target.scheme === 'https';
  const port = target.port || defaultPort(request) || (https ? '443' : '80');
  const address = `${podIP}:${port}`;
  const portNumber = Number(port);
  if (!/^\d+$/.test(port) || portNumber < 1 || portNumber > 65535) throw unreachable(address, `lookup tcp/${port}: unknown port`);
  if (!worker) throw unreachable(address, 'connect: connection refused');
  let socket: Duplex;
  try {
    socket = await dialPodPort(pod, worker, portNumber);
  } catch (error) {
    throw unreachable(address, /refused/.test(String(error)) ? 'connect: connection refused' : String(error instanceof Error ? error.message : error));
  }
  // Upstream's transport to pods does not verify their certificates.
  const connection: Duplex = https ? tlsConnect({ socket, rejectUnauthorized: false, servername: undefined }) : socket;
  await new Promise<void>((resolve, reject) => {
    let outgoing: http.ClientRequest;
    try {
      outgoing = http.request(
        { method: req.method ?? 'GET', path: target.path, headers: { ...forwarded(req.headers), host: address }, createConnection: () => connection },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.statusMessage ?? '', forwarded(answer.headers));
          answer.pipe(res);
          answer.once('end', () => resolve());
          answer.once('error', () => resolve());
        },
      );
    } catch (error) {
      connection.destroy();
      reject(new StatusError({ code: 400, reason: 'BadRequest', message: `invalid proxy path: ${error instanceof Error ? error.message : String(error)}` }));
      return;
    }
    outgoing.once('error', (error) => {
      connection.destroy();
      if (res.headersSent) {
        res.destroy();
        resolve();
      } else reject(unreachable(address, /refused|ECONNRESET|closed/i.test(error.message) ? 'connect: connection refused' : error.message));
    });
    res.once('close', () => connection.destroy());
    req.pipe(outgoing);
  });
}
