// httpGet probes and hooks against real processes: the kubelet GETs the pod IP from the node's
// network namespace as upstream's prober does (status 200–399 passes, headers from httpHeaders,
// User-Agent kube-probe/1.33 or kube-lifecycle/1.33), and a failure reads as upstream words it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { condition, containerStatus, type KubeletCluster, startKubeletCluster } from './harness.ts';

let lab: KubeletCluster;
let namespaces = 0;

beforeAll(async () => {
  lab = await startKubeletCluster();
}, 60_000);
afterAll(async () => {
  await lab?.stop();
});

async function namespace(): Promise<string> {
  const name = `probes-${++namespaces}`;
  expect((await lab.kubectl(['create', 'namespace', name])).code).toBe(0);
  await lab.serviceAccountReady(name);
  return name;
}

function reasons(ns: string, name: string): string[] {
  return lab.events(ns, name).map((event) => `${event.reason}: ${event.message}`);
}

/**
 * A Python server that logs each request's path and headers; /healthz answers 500, /old redirects
 * to /ready, /away to another host, /slow takes 3 s, the rest answer 200.
 */
const server = [
  'import http.server, time',
  'class H(http.server.BaseHTTPRequestHandler):',
  '    def do_GET(self):',
  '        print("GET", self.path, "UA=" + str(self.headers.get("User-Agent")), "X=" + str(self.headers.get("X-Probe")), "Host=" + str(self.headers.get("Host")), flush=True)',
  '        if self.path == "/slow":',
  '            time.sleep(3)',
  '        if self.path in ("/old", "/away"):',
  '            self.send_response(302)',
  '            self.send_header("Location", "/ready" if self.path == "/old" else "http://10.0.0.99/")',
  '            self.end_headers()',
  '            self.wfile.write(b"moved")',
  '            return',
  '        self.send_response(500 if self.path == "/healthz" else 200)',
  '        self.end_headers()',
  '        self.wfile.write(b"ok")',
  '    def log_message(self, *args):',
  '        pass',
  'http.server.ThreadingHTTPServer(("0.0.0.0", 8000), H).serve_forever()',
].join('\n');

/** python's http.server behind TLS with a self-signed certificate (the prober does not verify it). */
const tlsServer = [
  'import http.server, ssl',
  's = http.server.HTTPServer(("0.0.0.0", 8443), http.server.SimpleHTTPRequestHandler)',
  'c = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)',
  'c.load_cert_chain("c.pem", "k.pem")',
  's.socket = c.wrap_socket(s.socket, server_side=True)',
  's.serve_forever()',
].join('; ');

describe('httpGet probes and hooks of real processes', () => {
  it('makes python http.server, an HTTPS server and busybox httpd Ready through httpGet readiness probes, and refuses a port nothing listens on', async () => {
    const ns = await namespace();
    // The kubelet's clock runs 50 times faster here, the processes' does not: the probes give them time.
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: py}
spec:
  containers:
  - name: web
    image: python:3.12
    command: [python3, -m, http.server, '8000']
    ports: [{name: http, containerPort: 8000}]
    readinessProbe: {httpGet: {path: /, port: http}, periodSeconds: 10}
---
apiVersion: v1
kind: Pod
metadata: {name: bb}
spec:
  containers:
  - name: web
    image: busybox
    command: [sh, -c, 'mkdir -p /tmp/www && echo hello > /tmp/www/index.html && exec httpd -f -p 8080 -h /tmp/www']
    readinessProbe: {httpGet: {path: /index.html, port: 8080}, periodSeconds: 10}
---
apiVersion: v1
kind: Pod
metadata: {name: tls}
spec:
  containers:
  - name: web
    image: python:3.12
    command: [sh, -c, ${JSON.stringify(`cd /tmp && openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=tls -keyout k.pem -out c.pem -days 1 2>/dev/null && exec python3 -c '${tlsServer}'`)}]
    readinessProbe: {httpGet: {scheme: HTTPS, path: /, port: 8443}, periodSeconds: 10}
---
apiVersion: v1
kind: Pod
metadata: {name: closed}
spec:
  containers:
  - name: web
    image: python:3.12
    command: [python3, -m, http.server, '8000']
    readinessProbe: {httpGet: {path: /, port: 9999}, periodSeconds: 10}
`,
      ns,
    );
    await lab.until('py Ready', () => condition(lab.pod(ns, 'py'), 'Ready') === 'True', 60_000);
    await lab.until('bb Ready', () => condition(lab.pod(ns, 'bb'), 'Ready') === 'True', 60_000);
    await lab.until('tls Ready', () => condition(lab.pod(ns, 'tls'), 'Ready') === 'True', 60_000);
    const podIP = await lab.until('closed has an IP', () => (lab.pod(ns, 'closed')?.status as Record<string, string> | undefined)?.['podIP']);
    const refused = `Unhealthy: Readiness probe failed: Get "http://${podIP}:9999/": dial tcp ${podIP}:9999: connect: connection refused`;
    await lab.until('a refused readiness probe', () => reasons(ns, 'closed').includes(refused), 60_000);
    expect(condition(lab.pod(ns, 'closed'), 'Ready')).toBe('False');
    // python's http.server logs the kubelet's GET on stderr: from the node, with its User-Agent.
    const logs = await lab.kubectl(['logs', '-n', ns, 'py']);
    expect(logs.stdout).toMatch(/"GET \/ HTTP\/1\.1" 200/);
  }, 120_000);

  it('restarts a container whose httpGet liveness probe answers 500, with upstream’s event, and sends the spec’s headers', async () => {
    const ns = await namespace();
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: sick}
spec:
  containers:
  - name: web
    image: python:3.12
    command: [python3, -u, -c, ${JSON.stringify(server)}]
    startupProbe: {httpGet: {path: /started, port: 8000}, periodSeconds: 10, failureThreshold: 100}
    livenessProbe:
      httpGet:
        path: /healthz
        port: 8000
        httpHeaders: [{name: x-probe, value: liveness}, {name: Host, value: sick.example}]
      periodSeconds: 10
      failureThreshold: 2
`,
      ns,
    );
    await lab.until('a liveness restart', () => (containerStatus(lab.pod(ns, 'sick'))?.['restartCount'] ?? 0) >= 1, 90_000);
    const events = reasons(ns, 'sick');
    expect(events).toContain('Unhealthy: Liveness probe failed: HTTP probe failed with statuscode: 500');
    expect(events).toContain('Killing: Container web failed liveness probe, will be restarted');
    const previous = await lab.kubectl(['logs', '-n', ns, 'sick', '--previous']);
    expect(previous.stdout).toContain('GET /started UA=kube-probe/1.33 X=None Host=');
    expect(previous.stdout).toContain('GET /healthz UA=kube-probe/1.33 X=liveness Host=sick.example');
  }, 120_000);

  it('follows a redirect to the same host, passes one to another host with a ProbeWarning, and fails a GET that outlives timeoutSeconds', async () => {
    const ns = await namespace();
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: moves}
spec:
  containers:
  - name: web
    image: python:3.12
    command: [python3, -u, -c, ${JSON.stringify(server)}]
    startupProbe: {httpGet: {path: /old, port: 8000}, periodSeconds: 10, failureThreshold: 100}
    readinessProbe: {httpGet: {path: /away, port: 8000}, periodSeconds: 10}
    livenessProbe: {httpGet: {path: /slow, port: 8000}, periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 1000}
`,
      ns,
    );
    await lab.until('moves Ready', () => condition(lab.pod(ns, 'moves'), 'Ready') === 'True', 60_000);
    const podIP = (lab.pod(ns, 'moves')?.status as Record<string, string>)['podIP'];
    await lab.until('the timeout', () => reasons(ns, 'moves').includes(`Unhealthy: Liveness probe failed: Get "http://${podIP}:8000/slow": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`), 60_000);
    expect(reasons(ns, 'moves')).toContain('ProbeWarning: Readiness probe warning: Probe terminated redirects, Response body: moved');
    const logs = (await lab.kubectl(['logs', '-n', ns, 'moves'])).stdout;
    // The startup probe's redirect was followed on the same host; the other host was never asked.
    expect(logs).toMatch(/GET \/old UA=kube-probe\/1\.33 .*\nGET \/ready UA=kube-probe\/1\.33 /);
    expect(containerStatus(lab.pod(ns, 'moves'))?.['restartCount']).toBe(0);
  }, 120_000);

  it('sends a preStop httpGet hook to its host before the container stops, on delete and on a liveness kill', async () => {
    const ns = await namespace();
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: listener}
spec:
  containers:
  - name: web
    image: python:3.12
    command: [python3, -u, -c, ${JSON.stringify(server)}]
    readinessProbe: {httpGet: {path: /ready, port: 8000}, periodSeconds: 10}
`,
      ns,
    );
    await lab.until('listener Ready', () => condition(lab.pod(ns, 'listener'), 'Ready') === 'True', 60_000);
    const listenerIP = (lab.pod(ns, 'listener')?.status as Record<string, string>)['podIP'];
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: leaving}
spec:
  containers:
  - name: app
    image: busybox
    command: [sleep, '3600']
    lifecycle:
      preStop: {httpGet: {host: '${listenerIP}', path: /bye, port: 8000}}
---
apiVersion: v1
kind: Pod
metadata: {name: unwell}
spec:
  containers:
  - name: app
    image: busybox
    command: [sleep, '3600']
    livenessProbe: {httpGet: {path: /, port: 8000}, initialDelaySeconds: 30, failureThreshold: 1}
    lifecycle:
      preStop: {httpGet: {host: '${listenerIP}', path: /restarting, port: 8000}}
`,
      ns,
    );
    await lab.until('leaving running', () => containerStatus(lab.pod(ns, 'leaving'))?.['state']?.['running'] !== undefined, 60_000);
    expect((await lab.kubectl(['delete', 'pod', '-n', ns, 'leaving', '--wait=true'], { timeoutMs: 60_000 })).code).toBe(0);
    const logs = await lab.kubectl(['logs', '-n', ns, 'listener']);
    expect(logs.stdout).toContain(`GET /bye UA=kube-lifecycle/1.33 X=None Host=${listenerIP}:8000`);
    // A container killed for its liveness probe runs its preStop hook too, as killContainer does.
    await lab.until('unwell restarted', () => (containerStatus(lab.pod(ns, 'unwell'))?.['restartCount'] ?? 0) >= 1, 60_000);
    await lab.eventually('the preStop of the liveness kill', async () => (await lab.kubectl(['logs', '-n', ns, 'listener'])).stdout.includes('GET /restarting UA=kube-lifecycle/1.33'));
  }, 120_000);
});
