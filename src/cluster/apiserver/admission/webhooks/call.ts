// How the API server reaches a webhook: an HTTPS POST of the AdmissionReview, to clientConfig.url
// or to the Service clientConfig.service names (with the server name <service>.<namespace>.svc),
// the certificate checked against caBundle (the system's roots when it is empty), within
// timeoutSeconds. Both go through the cluster's network only (ClusterEgress): a URL's host is a
// Service's name or cluster IP, or a pod's IP, as a pod would reach it; nothing else is dialled,
// least of all an address on the host, where the portal, its database and other learners'
// clusters listen. The certificate is still checked against the URL's own host, as upstream's
// client does. Failures read as Go's HTTP client words them, for upstream's "failed calling
// webhook" message.
import { request as httpRequest } from 'node:http';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Webhook } from './configurations.ts';

/**
 * The API server's way into the cluster's network (kube-apiserver's egress to the "cluster"); each
 * rejects with upstream's reason (`service "x" not found`, `dial tcp 10.96.0.12:443: connect:
 * connection refused`).
 */
export interface ClusterEgress {
  /** A Service's port, as a pod reaches its cluster IP. */
  dialService(namespace: string, name: string, port: number): Promise<Duplex>;
  /** host:port of a URL, as a pod reaches it (a Service's name or cluster IP, a pod's IP); undefined when nothing in the cluster is there. */
  dial(host: string, port: number): Promise<Duplex> | undefined;
}

/** A reason the call failed (upstream's ErrCallingWebhook.Reason). */
export class CallFailure extends Error {}

/** What a webhook may answer with at most: a review is a few objects, never megabytes. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

export function webhookAddress(hook: Webhook): string {
  const query = `?timeout=${hook.timeoutSeconds}s`;
  if (hook.service) return `https://${hook.service.name}.${hook.service.namespace}.svc:${hook.service.port}${hook.service.path}${query}`;
  return `${hook.url ?? ''}${query}`;
}

function certificateAuthority(hook: Webhook): string | undefined {
  if (!hook.caBundle) return undefined;
  return Buffer.from(hook.caBundle, 'base64').toString('utf8');
}

/** crypto/x509's HostnameError: an IP is matched against the IP SANs only, a name against the DNS names. */
function hostnameError(subjectAltName: string, host: string): string {
  const sans = subjectAltName.split(', ').filter(Boolean);
  const ofKind = (prefix: string) => sans.filter((san) => san.startsWith(prefix)).map((san) => san.slice(prefix.length));
  const valid = isIP(host) ? ofKind('IP Address:') : ofKind('DNS:');
  if (isIP(host) && valid.length === 0) return `cannot validate certificate for ${host} because it doesn't contain any IP SANs`;
  if (valid.length === 0) return `certificate is not valid for any names, but wanted to match ${host}`;
  return `certificate is valid for ${valid.join(', ')}, not ${host}`;
}

/** Go's words for what Node reports. */
function reasonOf(error: NodeJS.ErrnoException & { reason?: string; host?: string; cert?: { subjectaltname?: string } }, target: string): string {
  switch (error.code) {
    case 'ECONNREFUSED':
      return `dial tcp ${target}: connect: connection refused`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `dial tcp: lookup ${target.replace(/:\d+$/, '')}: no such host`;
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
      return 'tls: failed to verify certificate: x509: certificate signed by unknown authority';
    case 'CERT_HAS_EXPIRED':
    case 'CERT_NOT_YET_VALID':
      return 'tls: failed to verify certificate: x509: certificate has expired or is not yet valid';
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return `tls: failed to verify certificate: x509: ${hostnameError(error.cert?.subjectaltname ?? '', error.host ?? '')}`;
    case 'ECONNRESET':
      return 'EOF';
    default:
      // A pod's port nobody listens on, told by the connection into its network namespace.
      if (/connection refused/i.test(error.message)) return `dial tcp ${target}: connect: connection refused`;
      return error.message;
  }
}

/** apimachinery's NewGenericServerResponse for an answer that is not 2xx. */
function unexpectedAnswer(code: number, body: string): string {
  try {
    const status = JSON.parse(body) as { kind?: unknown; message?: unknown };
    if (status.kind === 'Status' && typeof status.message === 'string' && status.message !== '') return status.message;
  } catch {
    // not a Status: described by its code below
  }
  if (code === 404) return 'the server could not find the requested resource';
  if (code >= 500) return `an error on the server (${JSON.stringify(body.trim())}) has prevented the request from succeeding`;
  return `the server responded with the status code ${code} but did not return more information`;
}

/** What a URL that leads outside the cluster gets: the failure a pod would see, and why. */
function outsideTheCluster(host: string, port: number): string {
  const reason = isIP(host) ? `dial tcp ${isIP(host) === 6 ? `[${host}]` : host}:${port}: connect: connection refused` : `dial tcp: lookup ${host}: no such host`;
  return `${reason} (the embedded cluster reaches webhook URLs only at its own Services and pods: <service>.<namespace>.svc, a Service's cluster IP or a pod's IP)`;
}

async function open(hook: Webhook, egress: ClusterEgress | undefined): Promise<{ socket: TLSSocket; target: string }> {
  const ca = certificateAuthority(hook);
  if (hook.service) {
    const { namespace, name, port } = hook.service;
    if (!egress) throw new CallFailure(`service "${name}" not found`);
    const raw = await egress.dialService(namespace, name, port);
    return { socket: tlsConnect({ socket: raw, servername: `${name}.${namespace}.svc`, ...(ca ? { ca } : {}) }), target: `${name}.${namespace}.svc:${port}` };
  }
  const url = new URL(hook.url ?? '');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 443);
  const raw = await (egress?.dial(host, port) ?? Promise.reject(new CallFailure(outsideTheCluster(host, port))));
  // The certificate must name the URL's host (an IP SAN for an address), wherever the connection went.
  const socket = tlsConnect({ socket: raw, host, ...(isIP(host) ? {} : { servername: host }), ...(ca ? { ca } : {}) });
  return { socket, target: `${url.hostname}:${port}` };
}

/** POSTs the review and returns the parsed answer; rejects with a CallFailure whose message is upstream's reason. */
export async function postReview(hook: Webhook, review: unknown, egress: ClusterEgress | undefined): Promise<unknown> {
  const address = webhookAddress(hook);
  const failure = (reason: string) => new CallFailure(`failed to call webhook: Post "${address}": ${reason}`);
  const body = JSON.stringify(review);
  const deadline = AbortSignal.timeout(hook.timeoutSeconds * 1000);
  let opened: { socket: TLSSocket; target: string };
  const opening = open(hook, egress);
  // A connection that comes after the deadline is closed, not left holding a slot to the pod.
  opening.then((late) => deadline.aborted && late.socket.destroy(), () => undefined);
  try {
    opened = await Promise.race([
      opening,
      new Promise<never>((_, reject) => deadline.addEventListener('abort', () => reject(new CallFailure('context deadline exceeded')), { once: true })),
    ]);
  } catch (error) {
    throw failure(error instanceof Error ? error.message : String(error));
  }
  const { socket, target } = opened;
  const path = address.slice(address.indexOf('/', 'https://'.length));
  return new Promise((resolve, reject) => {
    const fail = (reason: string) => {
      socket.destroy();
      reject(failure(reason));
    };
    const onAbort = () => fail('context deadline exceeded');
    deadline.addEventListener('abort', onAbort, { once: true });
    const outgoing = httpRequest(
      {
        method: 'POST',
        path,
        host: target.replace(/:\d+$/, ''),
        headers: { 'content-type': 'application/json', accept: 'application/json, */*', 'content-length': Buffer.byteLength(body), 'user-agent': 'kube-apiserver-admission' },
        createConnection: () => socket,
      },
      (answer) => {
        const chunks: Buffer[] = [];
        let size = 0;
        answer.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_RESPONSE_BYTES) fail('response body too large');
          else chunks.push(chunk);
        });
        answer.once('error', (error) => fail(reasonOf(error, target)));
        answer.once('end', () => {
          deadline.removeEventListener('abort', onAbort);
          socket.destroy();
          const text = Buffer.concat(chunks).toString('utf8');
          const code = answer.statusCode ?? 0;
          if (code < 200 || code > 299) return reject(new CallFailure(`failed to call webhook: ${unexpectedAnswer(code, text)}`));
          try {
            resolve(JSON.parse(text));
          } catch (error) {
            reject(new CallFailure(`failed to call webhook: ${error instanceof Error ? error.message : String(error)}`));
          }
        });
      },
    );
    outgoing.once('error', (error) => fail(reasonOf(error, target)));
    outgoing.end(body);
  });
}
