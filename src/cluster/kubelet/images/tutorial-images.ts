// Images the kubernetes.io tutorials and the common CKAD exercise books name, with the tags their
// registries really have: a tutorial that relies on a pull failing (the bootcamp's `:v10`) fails
// here as it does there. Data only, in the catalog's shape; `catalog.ts` lists them with its own.
import type { CatalogImage, ImageBehaviour } from './catalog-image.ts';

const mi = (n: number) => n * 1024 * 1024;

/**
 * The source a learner reads with `cat server.js` in the bootcamp's container (the image's working
 * directory is /): a Node server that does what the simulation does, written here.
 */
const bootcampSource = (version: string) => `// The Kubernetes bootcamp app: one line of text for every request, naming the pod that answered.
const http = require('http');

const hostname = process.env.HOSTNAME;
const startedAt = new Date();

const server = http.createServer((request, response) => {
  response.setHeader('Content-Type', 'text/plain');
  response.writeHead(200);
  response.end('Hello Kubernetes bootcamp! | Running on: ' + hostname + ' | v=${version}\\n');
});

server.listen(8080, () => {
  console.log('Kubernetes Bootcamp App Started At:', startedAt.toISOString(), '| Running On: ', hostname, '\\n');
});
`;

/** The bootcamp's server.js: one line of text, its version in the body ("| v=1"). */
function bootcamp(version: string): ImageBehaviour {
  return {
    ports: [8080],
    httpPort: 8080,
    http: { '/': { status: 200, body: `Hello Kubernetes bootcamp! | Running on: {{hostname}} | v=${version}\n` } },
    startLogs: ['Kubernetes Bootcamp App Started At: {{time:iso}} | Running On:  {{hostname}} ', ''],
    stopExitCode: 0,
    usage: { cpuMillis: 1, memoryBytes: mi(9) },
    files: { '/server.js': bootcampSource(version) },
  };
}

const nginxSlimWelcome =
  '<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n</head>\n<body>\n<h1>Welcome to nginx!</h1>\n<p>If you see this page, the nginx web server is successfully installed and\nworking. Further configuration is required.</p>\n</body>\n</html>\n';

const webappColor = (color: string): string =>
  `<!doctype html>\n<title>Hello from Flask</title>\n<body style="background: ${color};"></body>\n<div style="color: #e4e4e4;\n    text-align:  center;\n    height: 90px;\n    vertical-align:  middle;">\n\n  <h1>Hello from {{hostname}}!</h1>\n\n</div>\n`;

export const tutorialImages: CatalogImage[] = [
  {
    // "Learn Kubernetes Basics": v1 exists, and the rolling-update module's `:v10` does not.
    repository: 'gcr.io/google-samples/kubernetes-bootcamp',
    tags: 'v1',
    version: '1',
    sizeBytes: 79_998_224,
    kind: 'service',
    behaviour: bootcamp('1'),
  },
  {
    // The rolling-update module's v2.
    repository: 'docker.io/jocatalin/kubernetes-bootcamp',
    tags: '(v1|v2)',
    version: '2',
    sizeBytes: 80_063_344,
    kind: 'service',
    behaviour: bootcamp('1'),
    tagBehaviour: { v2: bootcamp('2') },
  },
  {
    // "Debug Services": the hostnames Deployment answers its pod's name on 9376.
    repository: 'registry.k8s.io/serve_hostname',
    tags: '(latest|v?1\\.[1-4])',
    version: '1.4',
    sizeBytes: 2_532_032,
    kind: 'service',
    behaviour: {
      ports: [9376],
      httpPort: 9376,
      http: { '/': { status: 200, body: '{{hostname}}' } },
      startLogs: ['Serving on port 9376.'],
      stopExitCode: 2,
      usage: { cpuMillis: 0, memoryBytes: mi(2) },
    },
  },
  {
    // "StatefulSet Basics" (web-0, web-1).
    repository: 'registry.k8s.io/nginx-slim',
    tags: '0\\.(8|2[0-7])',
    version: '0.27',
    sizeBytes: 35_765_184,
    kind: 'service',
    servers: ['nginx'],
    documentRoot: '/usr/share/nginx/html',
    behaviour: {
      ports: [80],
      httpPort: 80,
      http: { '/': { status: 200, body: nginxSlimWelcome }, '/index.html': { status: 200, body: nginxSlimWelcome } },
      startLogs: [],
      requestLog: '{{client}} - - [{{time:clf}}] "GET {{path}} HTTP/1.1" {{status}} 612 "-" "{{userAgent}}"',
      stopExitCode: 0,
      usage: { cpuMillis: 1, memoryBytes: mi(2) },
    },
  },
  {
    // "Connecting Applications with Services", Securing the Service: nginx on 80 and, with ssl, on
    // 443. Its own conf.d wants /etc/nginx/ssl/nginx.{crt,key}; the tutorial mounts a ConfigMap
    // over conf.d naming the TLS Secret's tls.crt and tls.key instead.
    repository: 'docker.io/bprashanth/nginxhttps',
    tags: '1\\.0',
    version: '1.0',
    sizeBytes: 48_270_052,
    kind: 'service',
    servers: ['nginx', 'nginx-debug'],
    documentRoot: '/usr/share/nginx/html',
    behaviour: {
      ports: [80, 443],
      httpPort: 80,
      http: { '/': { status: 200, body: nginxSlimWelcome }, '/index.html': { status: 200, body: nginxSlimWelcome } },
      startLogs: [],
      requestLog: '{{client}} - - [{{time:clf}}] "GET {{path}} HTTP/1.1" {{status}} 612 "-" "{{userAgent}}" "-"',
      stopExitCode: 0,
      usage: { cpuMillis: 1, memoryBytes: mi(3) },
      files: {
        '/etc/nginx/conf.d/default.conf': [
          'server {',
          '    listen 80 default_server;',
          '    listen 443 ssl;',
          '    server_name localhost;',
          '    root /usr/share/nginx/html;',
          '    index index.html;',
          '    ssl_certificate /etc/nginx/ssl/nginx.crt;',
          '    ssl_certificate_key /etc/nginx/ssl/nginx.key;',
          '    location / {',
          '        try_files $uri $uri/ =404;',
          '    }',
          '}',
          '',
        ].join('\n'),
      },
    },
  },
  {
    // The same page's curl pod: busybox with curl (the host's curl here).
    repository: 'docker.io/radial/busyboxplus',
    tags: '(latest|curl|git)',
    version: 'curl',
    sizeBytes: 4_230_000,
    kind: 'shell',
    cmd: ['sh'],
  },
  {
    // "Configure Liveness, Readiness and Startup Probes": the TCP probe's target.
    repository: 'registry.k8s.io/goproxy',
    tags: '0\\.1',
    version: '0.1',
    sizeBytes: 2_495_504,
    kind: 'service',
    behaviour: { ports: [8080], startLogs: [], stopExitCode: 2, usage: { cpuMillis: 0, memoryBytes: mi(2) } },
  },
  {
    // The Guestbook tutorial's PHP frontend and its Redis followers.
    repository: 'us-docker.pkg.dev/google-samples/containers/gke/gb-frontend',
    tags: 'v5',
    version: 'v5',
    sizeBytes: 160_334_270,
    kind: 'service',
    behaviour: {
      ports: [80],
      httpPort: 80,
      http: { '/': { status: 200, body: '<html ng-app="redis">\n  <head>\n    <title>Guestbook</title>\n  </head>\n  <body>\n    <h2>Guestbook</h2>\n  </body>\n</html>\n' } },
      startLogs: ["AH00558: apache2: Could not reliably determine the server's fully qualified domain name, using {{podIP}}. Set the 'ServerName' directive globally to suppress this message"],
      requestLog: '{{client}} - - [{{time:clf}}] "GET {{path}} HTTP/1.1" {{status}} 921 "-" "{{userAgent}}"',
      stopExitCode: 0,
      usage: { cpuMillis: 1, memoryBytes: mi(12) },
    },
  },
  {
    repository: 'us-docker.pkg.dev/google-samples/containers/gke/gb-redis-follower',
    tags: 'v2',
    version: '6.0.5',
    sizeBytes: 40_120_832,
    kind: 'service',
    behaviour: {
      ports: [6379],
      startLogs: ['1:S {{time:redis}} * Ready to accept connections', '1:S {{time:redis}} * Connecting to MASTER redis-leader:6379'],
      stopExitCode: 0,
      usage: { cpuMillis: 2, memoryBytes: mi(4) },
    },
  },
  {
    // CKAD exercise books' colour app (v1 red, v2 blue, v3 green).
    repository: 'docker.io/kodekloud/webapp-color',
    tags: '(latest|v1|v2|v3)',
    version: 'v1',
    sizeBytes: 31_701_434,
    kind: 'service',
    behaviour: {
      ports: [8080],
      httpPort: 8080,
      http: { '/': { status: 200, body: webappColor('#e74c3c') } },
      startLogs: [' This is a sample web application that displays a colored background.', ' * Serving Flask app "app" (lazy loading)', ' * Running on http://0.0.0.0:8080/ (Press CTRL+C to quit)'],
      requestLog: '{{client}} - - [{{time:clf}}] "GET {{path}} HTTP/1.1" {{status}} -',
      stopExitCode: 0,
      usage: { cpuMillis: 1, memoryBytes: mi(20) },
    },
    tagBehaviour: {
      v2: { http: { '/': { status: 200, body: webappColor('#2980b9') } } },
      v3: { http: { '/': { status: 200, body: webappColor('#16a085') } } },
    },
  },
  {
    // The Jobs page's pi Job (`perl -Mbignum=bpi -wle 'print bpi(2000)'`): its command runs for
    // real; without one, the image's `perl -de0` reads no terminal and ends, as under Docker.
    repository: 'docker.io/library/perl',
    tags: '(latest|slim|threaded|5(\\.[0-9]+){0,2}(-slim|-threaded|-bookworm|-slim-bookworm|-bullseye|-slim-bullseye)?)',
    version: '5.40.2',
    sizeBytes: 346_301_238,
    kind: 'shell',
    cmd: ['perl', '-de0'],
  },
  {
    // `kubectl run -it --rm py --image=python:3.12 -- python -c …` in exercise books.
    repository: 'docker.io/library/python',
    tags: '(latest|slim|alpine|3(\\.[0-9]+){0,2}(-slim|-alpine|-bookworm|-slim-bookworm|-bullseye|-slim-bullseye)?)',
    version: '3.13.7',
    sizeBytes: 412_392_640,
    kind: 'shell',
    cmd: ['python3'],
    // The image installs `python` beside `python3`; commands and scripts name either.
    hostPrograms: { '/usr/local/bin/python': '/usr/bin/python3' },
  },
  {
    // "Debugging DNS Resolution": the dnsutils pod sleeps while nslookup is exec'd into it.
    repository: 'registry.k8s.io/e2e-test-images/jessie-dnsutils',
    tags: '1\\.[0-7]',
    version: '1.3',
    sizeBytes: 112_045_380,
    kind: 'shell',
    cmd: ['bash'],
  },
];
