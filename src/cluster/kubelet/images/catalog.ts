// The images the simulated kubelet knows: what a learner meets in the Kubernetes docs, CKAD
// exercises and our own labs. Data only; add an image by adding an entry. Each entry says which
// tags exist, how large a pull is, what the image runs when the pod spec gives no command, which
// ports it serves and how it answers HTTP (for probes), what it logs, and how much CPU and memory
// it uses when idle.
//
// Two kinds of image:
// - `shell` images (busybox, alpine, …) run their command for real in the sandbox, busybox and
//   alpine in a root file system of their own (root-filesystem.ts), the others with the host's tools;
// - `service` images (nginx, redis, …) are simulated: no process, timers and data from here.
// The workbench is a service image whose exec sessions are the learner's real shell.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CatalogImage } from './catalog-image.ts';
import { systemImages } from './system-images.ts';
import { tutorialImages } from './tutorial-images.ts';

/** Where the portal image keeps Formicary (deploy/images/portal/Containerfile's WORKDIR). */
export const PORTAL_IMAGE_ROOT = '/opt/formicary';
/** This cluster's own Formicary: the project it runs from. */
const INSTALLATION = fileURLToPath(new URL('../../../../', import.meta.url));
/** What the portal image holds of the repository: its code and content, and node_modules with Node 24. */
const INSTALLATION_ENTRIES = ['package.json', 'bin', 'src', 'scripts', 'labs', 'content', 'public', 'dist', 'deploy', 'node_modules'];

const mi = (n: number) => n * 1024 * 1024;

const nginxLogs = [
  '/docker-entrypoint.sh: /docker-entrypoint.d/ is not empty, will attempt to perform configuration',
  '/docker-entrypoint.sh: Looking for shell scripts in /docker-entrypoint.d/',
  '/docker-entrypoint.sh: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh',
  '10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf',
  '10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf',
  '/docker-entrypoint.sh: Sourcing /docker-entrypoint.d/15-local-resolvers.envsh',
  '/docker-entrypoint.sh: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh',
  '/docker-entrypoint.sh: Launching /docker-entrypoint.d/30-tune-worker-processes.sh',
  '/docker-entrypoint.sh: Configuration complete; ready for start up',
  '{{time:nginx}} [notice] 1#1: using the "epoll" event method',
  '{{time:nginx}} [notice] 1#1: nginx/{{version}}',
  '{{time:nginx}} [notice] 1#1: built by gcc 12.2.0 (Debian 12.2.0-14)',
  '{{time:nginx}} [notice] 1#1: OS: Linux 6.1.0',
  '{{time:nginx}} [notice] 1#1: getrlimit(RLIMIT_NOFILE): 1048576:1048576',
  '{{time:nginx}} [notice] 1#1: start worker processes',
  '{{time:nginx}} [notice] 1#1: start worker process 29',
];

const nginxWelcome =
  '<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to nginx!</title>\n</head>\n<body>\n<h1>Welcome to nginx!</h1>\n<p>If you see this page, the nginx web server is successfully installed and\nworking. Further configuration is required.</p>\n</body>\n</html>\n';

const agnhostVersions = '2\\.(3[3-9]|4[0-9]|5[0-9])';

export const imageCatalog: CatalogImage[] = [
  {
    repository: 'docker.io/library/nginx',
    // 1.7.9 and 1.9.1 are older docs' and exercise books' tags; `1.161` (the Deployments page's typo) is not a tag
    tags: '(latest|stable|mainline|alpine|alpine-slim|perl|stable-alpine|mainline-alpine|1\\.([7-9]|1[0-9]|2[0-9])(\\.[0-9]+)?(-alpine|-alpine-slim|-perl|-bookworm)?)',
    version: '1.29.1',
    sizeBytes: 72_195_292,
    kind: 'service',
    servers: ['nginx', 'nginx-debug', 'docker-entrypoint.sh'],
    documentRoot: '/usr/share/nginx/html',
    behaviour: {
      ports: [80],
      httpPort: 80,
      http: { '/': { status: 200, body: nginxWelcome }, '/index.html': { status: 200, body: nginxWelcome } },
      startLogs: nginxLogs,
      requestLog: '{{client}} - - [{{time:clf}}] "GET {{path}} HTTP/1.1" {{status}} 615 "-" "{{userAgent}}" "-"',
      stopExitCode: 0,
      usage: { cpuMillis: 1, memoryBytes: mi(3) },
    },
  },
  {
    repository: 'docker.io/library/httpd',
    tags: '(latest|alpine|2|2\\.4(\\.[0-9]+)?)(-alpine|-bookworm)?',
    version: '2.4.65',
    sizeBytes: 58_226_135,
    kind: 'service',
    servers: ['httpd', 'httpd-foreground', 'apachectl'],
    documentRoot: '/usr/local/apache2/htdocs',
    behaviour: {
      ports: [80],
      httpPort: 80,
      http: { '/': { status: 200, body: '<html><body><h1>It works!</h1></body></html>\n' } },
      startLogs: [
        "AH00558: httpd: Could not reliably determine the server's fully qualified domain name, using {{podIP}}. Set the 'ServerName' directive globally to suppress this message",
        "AH00558: httpd: Could not reliably determine the server's fully qualified domain name, using {{podIP}}. Set the 'ServerName' directive globally to suppress this message",
        '[{{time:apache}}] [mpm_event:notice] [pid 1:tid 1] AH00489: Apache/{{version}} (Unix) configured -- resuming normal operations',
        "[{{time:apache}}] [core:notice] [pid 1:tid 1] AH00094: Command line: 'httpd -D FOREGROUND'",
      ],
      requestLog: '{{client}} - - [{{time:clf}}] "GET {{path}} HTTP/1.1" {{status}} 45',
      stopExitCode: 0,
      usage: { cpuMillis: 1, memoryBytes: mi(6) },
    },
  },
  {
    repository: 'docker.io/library/busybox',
    tags: '(latest|stable|musl|glibc|uclibc|1\\.(2[4-9]|3[0-7])(\\.[0-9]+)?(-musl|-glibc|-uclibc)?)',
    version: '1.37.0',
    sizeBytes: 2_166_761,
    kind: 'shell',
    rootFilesystem: 'busybox',
    cmd: ['sh'],
  },
  {
    repository: 'registry.k8s.io/busybox',
    tags: '(latest|1\\.2[4-8](\\.[0-9]+)?)',
    version: '1.27.2',
    sizeBytes: 1_144_547,
    kind: 'shell',
    rootFilesystem: 'busybox',
    cmd: ['sh'],
  },
  {
    repository: 'docker.io/library/alpine',
    tags: '(latest|edge|3|3\\.(1[5-9]|2[0-2])(\\.[0-9]+)?)',
    version: '3.22.1',
    sizeBytes: 3_796_953,
    kind: 'shell',
    rootFilesystem: 'alpine',
    cmd: ['/bin/sh'],
  },
  {
    repository: 'docker.io/library/ubuntu',
    tags: '(latest|rolling|devel|focal|jammy|noble|plucky|2[0-5]\\.(04|10))',
    version: '24.04',
    sizeBytes: 29_723_147,
    kind: 'shell',
    cmd: ['/bin/bash'],
  },
  {
    repository: 'docker.io/library/debian',
    tags: '(latest|stable|testing|bullseye|bookworm|trixie|1[0-3](\\.[0-9]+)?)(-slim)?',
    version: '12',
    sizeBytes: 48_479_381,
    kind: 'shell',
    cmd: ['bash'],
  },
  {
    repository: 'docker.io/library/bash',
    tags: '(latest|5|5\\.[0-3](\\.[0-9]+)?|4\\.4)',
    version: '5.2.37',
    sizeBytes: 6_223_442,
    kind: 'shell',
    entrypoint: ['docker-entrypoint.sh'],
    cmd: ['bash'],
  },
  {
    repository: 'docker.io/curlimages/curl',
    tags: '(latest|8\\.[0-9]+(\\.[0-9]+)?)',
    version: '8.15.0',
    sizeBytes: 10_315_627,
    kind: 'shell',
    entrypoint: ['curl'],
    cmd: ['--help'],
  },
  {
    repository: 'docker.io/library/hello-world',
    tags: '(latest|linux)',
    version: 'latest',
    sizeBytes: 9_310,
    kind: 'service',
    servers: ['hello'],
    behaviour: {
      ports: [],
      startLogs: [
        '',
        'Hello from Docker!',
        'This message shows that your installation appears to be working correctly.',
        '',
        'To generate this message, Docker took the following steps:',
        ' 1. The Docker client contacted the Docker daemon.',
        ' 2. The Docker daemon pulled the "hello-world" image from the Docker Hub.',
        ' 3. The Docker daemon created a new container from that image which runs the',
        '    executable that produces the output you are currently reading.',
        ' 4. The Docker daemon streamed that output to the Docker client, which sent it',
        '    to your terminal.',
        '',
      ],
      exit: { code: 0, afterMs: 50 },
      usage: { cpuMillis: 0, memoryBytes: mi(1) },
    },
  },
  {
    repository: 'docker.io/library/redis',
    // 5.0.4: "Configuring Redis using a ConfigMap"; 6.0.5: the Guestbook's leader
    tags: '(latest|alpine|[3-8](\\.[0-9]+){0,2}(-alpine|-bookworm)?)',
    version: '8.2.1',
    sizeBytes: 52_530_182,
    kind: 'service',
    servers: ['redis-server', 'redis-sentinel', 'docker-entrypoint.sh'],
    behaviour: {
      ports: [6379],
      startLogs: [
        '1:C {{time:redis}} # WARNING Memory overcommit must be enabled! Without it, a background save or replication may fail under low memory condition.',
        '1:C {{time:redis}} * oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo',
        '1:C {{time:redis}} * Redis version={{version}}, bits=64, commit=00000000, modified=1, pid=1, just started',
        '1:C {{time:redis}} # Warning: no config file specified, using the default config. In order to specify a config file use redis-server /path/to/redis.conf',
        '1:M {{time:redis}} * monotonic clock: POSIX clock_gettime',
        '1:M {{time:redis}} * Running mode=standalone, port=6379.',
        '1:M {{time:redis}} * Server initialized',
        '1:M {{time:redis}} * Ready to accept connections tcp',
      ],
      stopExitCode: 0,
      usage: { cpuMillis: 2, memoryBytes: mi(4) },
    },
  },
  {
    repository: 'docker.io/library/postgres',
    tags: '(latest|alpine|1[2-8](\\.[0-9]+)?(-alpine|-bookworm|-bullseye)?)',
    version: '17.6',
    sizeBytes: 158_543_006,
    kind: 'service',
    servers: ['postgres', 'docker-entrypoint.sh'],
    behaviour: {
      ports: [5432],
      startLogs: [
        'The files belonging to this database system will be owned by user "postgres".',
        'This user must also own the server process.',
        '',
        'The database cluster will be initialized with locale "en_US.utf8".',
        'The default database encoding has accordingly been set to "UTF8".',
        'The default text search configuration will be set to "english".',
        '',
        'Success. You can now start the database server using:',
        '',
        '    pg_ctl -D /var/lib/postgresql/data -l logfile start',
        '',
        'PostgreSQL init process complete; ready for start up.',
        '',
        '{{time:postgres}} UTC [1] LOG:  starting PostgreSQL {{version}} on x86_64-pc-linux-gnu, compiled by gcc (Debian 12.2.0-14) 12.2.0, 64-bit',
        '{{time:postgres}} UTC [1] LOG:  listening on IPv4 address "0.0.0.0", port 5432',
        '{{time:postgres}} UTC [1] LOG:  listening on Unix socket "/var/run/postgresql/.s.PGSQL.5432"',
        '{{time:postgres}} UTC [1] LOG:  database system is ready to accept connections',
      ],
      stopExitCode: 0,
      usage: { cpuMillis: 3, memoryBytes: mi(24) },
    },
    requiredEnv: {
      anyOf: ['POSTGRES_PASSWORD', 'POSTGRES_HOST_AUTH_METHOD'],
      exitCode: 1,
      logs: [
        'Error: Database is uninitialized and superuser password is not specified.',
        '       You must specify POSTGRES_PASSWORD to a non-empty value for the',
        '       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".',
        '',
        '       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all',
        '       connections without a password. This is *not* recommended.',
        '',
        '       See PostgreSQL documentation about "trust":',
        '       https://www.postgresql.org/docs/current/auth-trust.html',
      ],
    },
  },
  {
    repository: 'docker.io/library/mysql',
    // 5.6: "Run a Single-Instance Stateful Application"
    tags: '(latest|lts|innovation|5\\.[67](\\.[0-9]+)?|8(\\.[0-9]+){0,2}|9(\\.[0-9]+){0,2})(-oracle|-debian)?',
    version: '8.4.6',
    sizeBytes: 233_468_281,
    kind: 'service',
    servers: ['mysqld', 'docker-entrypoint.sh'],
    behaviour: {
      ports: [3306, 33060],
      startLogs: [
        '{{time:mysql}}+00:00 [Note] [Entrypoint]: Entrypoint script for MySQL Server {{version}}-1.el9 started.',
        '{{time:mysql}}+00:00 [Note] [Entrypoint]: Switching to dedicated user \'mysql\'',
        '{{time:mysql}}+00:00 [Note] [Entrypoint]: Initializing database files',
        '{{time:mysql}}+00:00 [Note] [Entrypoint]: MySQL init process done. Ready for start up.',
        "{{time:iso}} 0 [System] [MY-010931] [Server] /usr/sbin/mysqld: ready for connections. Version: '{{version}}'  socket: '/var/run/mysqld/mysqld.sock'  port: 3306  MySQL Community Server - GPL.",
      ],
      stopExitCode: 0,
      usage: { cpuMillis: 5, memoryBytes: mi(380) },
    },
    requiredEnv: {
      anyOf: ['MYSQL_ROOT_PASSWORD', 'MYSQL_ALLOW_EMPTY_PASSWORD', 'MYSQL_RANDOM_ROOT_PASSWORD'],
      exitCode: 1,
      logs: [
        '{{time:mysql}}+00:00 [Note] [Entrypoint]: Entrypoint script for MySQL Server {{version}}-1.el9 started.',
        '{{time:mysql}}+00:00 [ERROR] [Entrypoint]: Database is uninitialized and password option is not specified',
        '    You need to specify one of the following as an environment variable:',
        '    - MYSQL_ROOT_PASSWORD',
        '    - MYSQL_ALLOW_EMPTY_PASSWORD',
        '    - MYSQL_RANDOM_ROOT_PASSWORD',
      ],
    },
  },
  {
    // The Kubernetes e2e and docs image: one binary, many servers chosen by the first argument.
    repository: 'registry.k8s.io/e2e-test-images/agnhost',
    tags: agnhostVersions,
    version: '2.53',
    sizeBytes: 52_048_513,
    kind: 'service',
    servers: ['agnhost'],
    entrypoint: ['/agnhost'],
    subcommands: {
      '': {
        ports: [],
        startLogs: ['agnhost is a test image with many subcommands; pass one as the first argument.', '', 'Usage:', '  agnhost [command]', '', 'Available Commands:', '  netexec        Creates HTTP(S), UDP, and (optionally) SCTP servers with various endpoints', '  pause          Pauses the execution', '  serve-hostname Serves the hostname', '  liveness       Starts a http server that fails /healthz after 10 seconds', '  test-webserver Creates a test webserver'],
        exit: { code: 0, afterMs: 20 },
        usage: { cpuMillis: 0, memoryBytes: mi(2) },
      },
      netexec: {
        ports: [8080, 8081],
        httpPort: 8080,
        http: {
          '/': { status: 200, body: 'NOW: {{time:go}}' },
          '/hostname': { status: 200, body: '{{hostname}}' },
          '/healthz': { status: 200, body: 'ok' },
          '/clientip': { status: 200, body: '{{client}}:40000' },
          '/echo': { status: 200, body: '' },
        },
        startLogs: ['I0101 00:00:00.000000       1 log.go:245] Started HTTP server on port 8080', 'I0101 00:00:00.000000       1 log.go:245] Started UDP server on port  8081'],
        requestLog: 'I0101 00:00:00.000000       1 log.go:245] GET {{path}}',
        stopExitCode: 2,
        usage: { cpuMillis: 1, memoryBytes: mi(8) },
      },
      'serve-hostname': {
        ports: [9376],
        httpPort: 9376,
        http: { '/': { status: 200, body: '{{hostname}}' } },
        startLogs: ['I0101 00:00:00.000000       1 log.go:245] Serving on port 9376.'],
        stopExitCode: 2,
        usage: { cpuMillis: 1, memoryBytes: mi(5) },
      },
      liveness: {
        ports: [8080],
        httpPort: 8080,
        http: { '/healthz': { status: 200, body: 'ok', forSeconds: 10, thenStatus: 500 }, '/': { status: 200, body: 'ok' } },
        startLogs: ['Started HTTP server on port 8080'],
        stopExitCode: 2,
        usage: { cpuMillis: 1, memoryBytes: mi(5) },
      },
      pause: {
        ports: [],
        startLogs: ['Paused'],
        stopExitCode: 0,
        usage: { cpuMillis: 0, memoryBytes: mi(1) },
      },
      'test-webserver': {
        ports: [80],
        httpPort: 80,
        http: { '/': { status: 200, body: 'hello' } },
        startLogs: [],
        stopExitCode: 2,
        usage: { cpuMillis: 1, memoryBytes: mi(4) },
      },
    },
  },
  {
    repository: 'registry.k8s.io/pause',
    tags: '(latest|3\\.[0-9]+)',
    version: '3.10',
    sizeBytes: 320_368,
    kind: 'service',
    servers: ['pause'],
    behaviour: { ports: [], startLogs: [], stopExitCode: 0, usage: { cpuMillis: 0, memoryBytes: mi(1) } },
  },
  ...['gcr.io/google-samples/hello-app', 'us-docker.pkg.dev/google-samples/containers/gke/hello-app'].map(
    (repository): CatalogImage => ({
      repository,
      tags: '(1\\.0|2\\.0)',
      version: '1.0.0',
      sizeBytes: 4_497_210,
      kind: 'service',
      behaviour: {
        ports: [8080],
        httpPort: 8080,
        http: { '/': { status: 200, body: 'Hello, world!\nVersion: {{version}}\nHostname: {{hostname}}\n' } },
        startLogs: ['{{time:go}} Server listening on port 8080'],
        requestLog: '{{time:go}} Serving request: {{path}}',
        stopExitCode: 2,
        usage: { cpuMillis: 1, memoryBytes: mi(3) },
      },
    }),
  ),
  {
    repository: 'docker.io/kicbase/echo-server',
    tags: '(latest|1\\.0)',
    version: '1.0',
    sizeBytes: 2_489_792,
    kind: 'service',
    servers: ['echo-server'],
    behaviour: {
      ports: [8080],
      httpPort: 8080,
      http: { '/': { status: 200, body: 'Request served by {{hostname}}\n\nGET {{path}} HTTP/1.1\n' } },
      startLogs: ['Echo server listening on port 8080.'],
      stopExitCode: 2,
      usage: { cpuMillis: 1, memoryBytes: mi(2) },
    },
  },
  ...['registry.k8s.io/echoserver', 'k8s.gcr.io/echoserver'].map(
    (repository): CatalogImage => ({
      repository,
      tags: '1\\.(4|10)',
      version: '1.10',
      sizeBytes: 46_249_542,
      kind: 'service',
      behaviour: {
        ports: [8080],
        httpPort: 8080,
        http: { '/': { status: 200, body: 'Hostname: {{hostname}}\n\nRequest Information:\n\tmethod=GET\n\treal path={{path}}\n' } },
        startLogs: ['Generating self-signed cert', 'Starting nginx'],
        requestLog: '{{client}} - - [{{time:clf}}] "GET {{path}} HTTP/1.1" {{status}} 410 "-" "{{userAgent}}"',
        stopExitCode: 0,
        usage: { cpuMillis: 1, memoryBytes: mi(7) },
      },
    }),
  ),
  {
    // The HorizontalPodAutoscaler walkthrough's php-apache server.
    repository: 'registry.k8s.io/hpa-example',
    tags: 'latest',
    version: 'latest',
    sizeBytes: 169_531_568,
    kind: 'service',
    behaviour: {
      ports: [80],
      httpPort: 80,
      http: { '/': { status: 200, body: 'OK!' } },
      startLogs: [
        "AH00558: apache2: Could not reliably determine the server's fully qualified domain name, using {{podIP}}. Set the 'ServerName' directive globally to suppress this message",
        '[{{time:apache}}] [mpm_prefork:notice] [pid 1] AH00163: Apache/2.4.10 (Debian) PHP/5.6.14 configured -- resuming normal operations',
      ],
      requestLog: '{{client}} - - [{{time:clf}}] "GET {{path}} HTTP/1.1" {{status}} 3 "-" "{{userAgent}}"',
      stopExitCode: 0,
      usage: { cpuMillis: 1, memoryBytes: mi(10) },
      // index.php computes square roots in a loop: about 10 ms of CPU a request.
      cpuPerRequestMillis: 10,
    },
  },
  {
    // Our demo web app. Its switches make probes and rollouts something a lab can drive:
    // - /ready answers 503 while /tmp/not-ready exists (`kubectl exec web -- touch /tmp/not-ready`)
    //   and until READY_AFTER_SECONDS have passed;
    // - /healthz answers 500 while /tmp/unhealthy exists and once FAIL_AFTER_SECONDS have passed;
    // - tag 2.0 is the broken release: /ready never passes, so a rollout to it stalls.
    repository: 'docker.io/formicary/demo-web',
    tags: '(latest|1\\.0|1\\.1|2\\.0)',
    version: '1.1',
    sizeBytes: 12_582_912,
    kind: 'service',
    behaviour: {
      ports: [8080],
      httpPort: 8080,
      http: {
        '/': { status: 200, body: 'Hello from demo-web {{version}} on {{hostname}}\n' },
        '/version': { status: 200, body: '{{version}}\n' },
        '/healthz': { status: 200, body: 'ok\n', failWhileFileExists: 'unhealthy', failAfterSecondsFromEnv: 'FAIL_AFTER_SECONDS' },
        '/ready': { status: 200, body: 'ready\n', failWhileFileExists: 'not-ready', notBeforeSecondsFromEnv: 'READY_AFTER_SECONDS' },
      },
      startLogs: ['{{time:iso}} demo-web {{version}} starting', '{{time:iso}} listening on :8080'],
      requestLog: '{{time:iso}} {{client}} GET {{path}} {{status}}',
      stopExitCode: 0,
      usage: { cpuMillis: 2, memoryBytes: mi(16) },
    },
    tagBehaviour: {
      '2.0': {
        http: {
          '/': { status: 200, body: 'Hello from demo-web {{version}} on {{hostname}}\n' },
          '/version': { status: 200, body: '{{version}}\n' },
          '/healthz': { status: 200, body: 'ok\n' },
          '/ready': { status: 503, body: 'database connection failed\n' },
        },
        startLogs: ['{{time:iso}} demo-web {{version}} starting', '{{time:iso}} listening on :8080', '{{time:iso}} error: cannot reach database at db:5432: connection refused'],
      },
    },
  },
  {
    // The lab's own terminal: exec into it gives the learner's bash with kubectl.
    repository: 'docker.io/formicary/workbench',
    tags: '(latest|1\\.0)',
    version: '1.0',
    sizeBytes: 96_468_992,
    kind: 'workbench',
    behaviour: {
      ports: [],
      startLogs: ['{{time:iso}} workbench ready: kubectl exec -it {{hostname}} -- bash'],
      stopExitCode: 0,
      usage: { cpuMillis: 1, memoryBytes: mi(12) },
    },
  },
  {
    // The portal's own image (deploy/images/portal): Formicary at /opt/formicary with its Node 24.
    // Its programs are this cluster's own installation, bound read-only where the image has them,
    // so a pod of it really runs `formicary cluster` (a learner's own cluster, needs: cluster on
    // LAB_CLUSTER=kubernetes) or the portal. Only the installation's code is bound, never its
    // data (.formicary, DATA_DIR).
    repository: 'docker.io/formicary/portal',
    tags: '(latest|[0-9]+\\.[0-9]+\\.[0-9]+)',
    version: '0.1.0',
    sizeBytes: 187_695_104,
    kind: 'shell',
    hostPrograms: Object.fromEntries(INSTALLATION_ENTRIES.map((entry) => [`${PORTAL_IMAGE_ROOT}/${entry}`, join(INSTALLATION, entry)])),
    entrypoint: [`${PORTAL_IMAGE_ROOT}/node_modules/.bin/node`, `${PORTAL_IMAGE_ROOT}/scripts/start.ts`],
  },
  {
    // A private repository: pulls need credentials the lab does not have (imagePullSecrets labs).
    repository: 'docker.io/formicary/private-app',
    tags: '(latest|1\\.0)',
    version: '1.0',
    sizeBytes: 10_000_000,
    kind: 'service',
    unavailable: 'denied',
  },
  {
    // The retired registry: its images are gone.
    repository: 'gcr.io/google_containers/busybox',
    tags: '.*',
    version: '1.24',
    sizeBytes: 1_000_000,
    kind: 'shell',
    unavailable: 'not-found',
  },
  ...tutorialImages,
  ...systemImages,
];
