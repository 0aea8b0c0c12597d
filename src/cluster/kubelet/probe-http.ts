// The kubelet's HTTP GET of an httpGet probe or lifecycle hook against a real process, as upstream's
// pkg/probe/http sends it: the httpHeaders (Host among them), its own User-Agent and Accept unless
// given, no keep-alive, redirects followed only to the same host (at most 10), at most 10 KiB of
// the body read, one deadline for all of it, and failures in the words of Go's HTTP client.
import { type ClientRequest, request, validateHeaderName, validateHeaderValue } from 'node:http';
import { isIPv4 } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';

export interface HttpGetRequest {
  scheme: 'http' | 'https';
  /** The httpGet's host, or else the pod IP. */
  host: string;
  port: number;
  /** The path with its query, as the spec gives it. */
  path: string;
  /** httpHeaders in order (a name may repeat). */
  headers: Array<[string, string]>;
  /** kube-probe/<major>.<minor> or kube-lifecycle/<major>.<minor>. */
  userAgent: string;
  timeoutMs: number;
}

export type HttpGetOutcome = { status: number; body: string } | { error: string };

/** A TCP connection to ip:port from where the kubelet dials; undefined: refused at once. */
export type Dial = (ip: string, port: number, timeoutSeconds: number) => Duplex | undefined;

const BODY_LIMIT_BYTES = 10 * 1024;
const MAX_REDIRECTS = 10;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** The URL as Go's url.URL prints it (the prober's messages name it). */
export function probeUrl(scheme: string, host: string, port: number | string, path: string): string {
  return `${scheme}://${host}:${port}${path.startsWith('/') ? path : `/${path}`}`;
}

/** A header name as Go's http.Header keeps it (CanonicalMIMEHeaderKey: x-custom → X-Custom). */
function canonical(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_, dash: string, letter: string) => dash + letter.toUpperCase());
}

/** The headers upstream's newProbeRequest sends: the spec's, then User-Agent and Accept where the spec has none. */
function requestHeaders(spec: HttpGetRequest, hostPort: string): Record<string, string[]> {
  const headers: Record<string, string[]> = {};
  for (const [name, value] of spec.headers) (headers[canonical(name)] ??= []).push(value);
  headers['User-Agent'] ??= [spec.userAgent];
  if (!headers['Accept']) headers['Accept'] = ['*/*'];
  else if (headers['Accept'][0] === '') delete headers['Accept'];
  // Go sends req.Host, which is the Host header when the spec sets one, else the URL's host:port.
  headers['Host'] = [headers['Host']?.[0] || hostPort];
  headers['Connection'] = ['close'];
  return headers;
}

/** socat's words for a failed connect, as Go's dialer says them. */
function dialError(said: string, ip: string, port: number): string {
  const address = `dial tcp ${ip}:${port}`;
  if (/refused/i.test(said)) return `${address}: connect: connection refused`;
  if (/no route to host/i.test(said)) return `${address}: connect: no route to host`;
  if (/network is unreachable/i.test(said)) return `${address}: connect: network is unreachable`;
  if (/timed out/i.test(said)) return `${address}: i/o timeout`;
  return `${address}: connect: ${said}`;
}

type Attempt = { status: number; body: string; location: string | undefined } | { error: string };

function getOnce(url: URL, spec: HttpGetRequest, dial: Dial, deadline: number): Promise<Attempt> {
  const ip = url.hostname;
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  // The node dials addresses only: a name would be looked up with the host machine's resolver, which the node network cannot reach.
  if (!isIPv4(ip)) return Promise.resolve({ error: `dial tcp: lookup ${ip}: no such host` });
  const remaining = deadline - Date.now();
  const connection = dial(ip, port, Math.max(1, Math.ceil(remaining / 1000) + 1));
  if (!connection) return Promise.resolve({ error: dialError('refused', ip, port) });
  let connected = false;
  return new Promise((resolve) => {
    let settled = false;
    const settle = (attempt: Attempt) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stream.destroy();
      connection.destroy();
      resolve(attempt);
    };
    const timer = setTimeout(() => settle({ error: 'context deadline exceeded (Client.Timeout exceeded while awaiting headers)' }), Math.max(remaining, 0));
    // Before TLS wraps the connection: a failed connect is told here first, in the dialer's words.
    connection.once('data', () => (connected = true));
    connection.on('error', (error: Error) => settle({ error: connected ? 'EOF' : dialError(error.message, ip, port) }));
    const stream: Duplex = url.protocol === 'https:' ? tlsConnect({ socket: connection, rejectUnauthorized: false }) : connection;
    let req: ClientRequest;
    try {
      req = request({
        method: 'GET',
        path: `${url.pathname}${url.search}`,
        headers: requestHeaders(spec, `${ip}:${port}`),
        createConnection: () => stream,
      });
    } catch (error) {
      // Whatever the spec holds, a probe is an outcome, never an exception in the kubelet.
      settle({ error: error instanceof Error ? error.message : String(error) });
      return;
    }
    // A failed connect was told above (the connection's own error comes first); anything else is the server hanging up.
    req.on('error', () => settle({ error: 'EOF' }));
    req.once('response', (res) => {
      const location = res.headers.location;
      const chunks: Buffer[] = [];
      let read = 0;
      const answered = () => settle({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).subarray(0, BODY_LIMIT_BYTES).toString('utf8'), location });
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        read += chunk.length;
        // The prober reads at most 10 KiB of the body and closes the connection there.
        if (read >= BODY_LIMIT_BYTES) answered();
      });
      res.once('end', answered);
      res.on('error', answered);
    });
    req.end();
  });
}

/** GETs the spec's URL; the final status, or the error as the prober reports it (`Get "<url>": …`). */
export async function httpGet(spec: HttpGetRequest, dial: Dial): Promise<HttpGetOutcome> {
  const deadline = Date.now() + spec.timeoutMs;
  const first = probeUrl(spec.scheme, spec.host, spec.port, spec.path);
  let url: URL;
  try {
    url = new URL(first);
  } catch {
    return { error: `parse "${first}": invalid URL` };
  }
  // Go's transport refuses such headers before it dials.
  for (const [name, value] of spec.headers) {
    try {
      validateHeaderName(name);
    } catch {
      return { error: `Get "${first}": net/http: invalid header field name ${JSON.stringify(name)}` };
    }
    try {
      validateHeaderValue(name, value);
    } catch {
      return { error: `Get "${first}": net/http: invalid header field value for ${JSON.stringify(canonical(name))}` };
    }
  }
  let current = first;
  for (let redirects = 0; ; redirects++) {
    const attempt = await getOnce(url, spec, dial, deadline);
    if ('error' in attempt) return { error: `Get "${current}": ${attempt.error}` };
    if (!REDIRECTS.has(attempt.status) || !attempt.location) return { status: attempt.status, body: attempt.body };
    let next: URL;
    try {
      next = new URL(attempt.location, url);
    } catch {
      return { status: attempt.status, body: attempt.body };
    }
    // Another host's redirect is not followed: the redirect itself is the answer (a warning, not a failure).
    if (next.hostname !== url.hostname || (next.protocol !== 'http:' && next.protocol !== 'https:')) return { status: attempt.status, body: attempt.body };
    if (redirects + 1 >= MAX_REDIRECTS) return { error: `Get "${next.href}": stopped after ${MAX_REDIRECTS} redirects` };
    url = next;
    current = next.href;
  }
}
