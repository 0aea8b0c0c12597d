// How the API server reaches a webhook: an HTTPS POST of the AdmissionReview, to clientConfig.url
// or to the Service clientConfig.service names (through the cluster's service network to a ready
// pod behind it, with the server name <service>.<namespace>.svc), the certificate checked against
// caBundle (the system's roots when it is empty), within timeoutSeconds. Failures read as Go's
// HTTP client words them, for upstream's "failed calling webhook" message.
import { request as httpRequest } from 'node:http';
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import type { Webhook } from './configurations.ts';

/**
 * Opens a connection to a Service's port as a pod would reach its cluster IP; rejects with
 * upstream's reason (`service "x" not found`, `dial tcp 10.96.0.12:443: connect: connection refused`).
 */
export type ServiceDialer = (namespace: string, name: string, port: number) => Promise<Duplex>;

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
    case 'ERR_TLS_CERT_ALTNAME_INVALID': {
      const names = (error.cert?.subjectaltname ?? '').split(', ').map((name) => name.replace(/^(DNS|IP Address):/, '')).filter(Boolean);
      return `tls: failed to verify certificate: x509: certificate is valid for ${names.join(', ')}, not ${error.host ?? ''}`;
    }
    case 'ECONNRESET':
      return 'EOF';
    default:
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

async function open(hook: Webhook, dial: ServiceDialer | undefined): Promise<{ socket: TLSSocket; target: string }> {
  const ca = certificateAuthority(hook);
  if (hook.service) {
    const { namespace, name, port } = hook.service;
    if (!dial) throw new CallFailure(`service "${name}" not found`);
    const raw = await dial(namespace, name, port);
    return { socket: tlsConnect({ socket: raw, servername: `${name}.${namespace}.svc`, ...(ca ? { ca } : {}) }), target: `${name}.${namespace}.svc:${port}` };
  }
  const url = new URL(hook.url ?? '');
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 443);
  const socket = tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }), ...(ca ? { ca } : {}) });
  return { socket, target: `${url.hostname}:${port}` };
}

/** POSTs the review and returns the parsed answer; rejects with a CallFailure whose message is upstream's reason. */
export async function postReview(hook: Webhook, review: unknown, dial: ServiceDialer | undefined): Promise<unknown> {
  const address = webhookAddress(hook);
  const failure = (reason: string) => new CallFailure(`failed to call webhook: Post "${address}": ${reason}`);
  const body = JSON.stringify(review);
  const deadline = AbortSignal.timeout(hook.timeoutSeconds * 1000);
  let opened: { socket: TLSSocket; target: string };
  const opening = open(hook, dial);
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
