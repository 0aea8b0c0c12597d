// What the catalog says of one image (catalog.ts and its neighbours hold the entries): its tags
// and size, shell or service, its entrypoint, and how a service image behaves (ports, HTTP
// answers, logs, usage). Types only, so the catalog's files share them without a circle.
import type { RootFilesystemKind } from './root-filesystem.ts';

/** How an HTTP path answers. `when` switches make the demo app's probes something a lab can flip. */
export interface HttpEndpoint {
  status: number;
  /** Response body; templates: {{hostname}}, {{version}}, {{podIP}}. */
  body?: string;
  /** Answer `status` only for this long after the container started, then `thenStatus` (agnhost liveness). */
  forSeconds?: number;
  thenStatus?: number;
  /** Answer 503 (readiness) / 500 (health) while this file exists in the container's /tmp. */
  failWhileFileExists?: string;
  /** Answer `status` only once this many seconds have passed, taken from this environment variable. */
  notBeforeSecondsFromEnv?: string;
  /** Fail from this many seconds on, taken from this environment variable. */
  failAfterSecondsFromEnv?: string;
}

export interface ImageBehaviour {
  /** TCP ports the image listens on (tcpSocket probes succeed there). */
  ports: number[];
  /** Port the HTTP endpoints are served on; absent: no HTTP. */
  httpPort?: number;
  /** Path → answer; paths not listed answer `notFoundStatus` (default 404). */
  http?: Record<string, HttpEndpoint>;
  /** Lines logged at start (stdout). Templates: {{time:FORMAT}}, {{version}}, {{hostname}}, {{port}}, {{podIP}}. */
  startLogs: string[];
  /** Line logged per HTTP request (probes included, as on a real server). Templates add {{path}}, {{status}}, {{client}}, {{userAgent}}. */
  requestLog?: string;
  /** The process exits on its own after start: hello-world, a missing password, agnhost without a subcommand. */
  exit?: { code: number; afterMs: number };
  /** Exit code when asked to stop (SIGTERM): nginx shuts down cleanly (0), most Go servers die with 2. */
  stopExitCode?: number;
  /** Idle usage. */
  usage: { cpuMillis: number; memoryBytes: number };
  /** CPU milliseconds one served request costs (what a load generator turns into CPU use). */
  cpuPerRequestMillis?: number;
  /** Files of the image a shell in it finds (path in the image → content): the app's own source, as `cat server.js` shows it. */
  files?: Record<string, string>;
}

export interface EnvRequirement {
  /** At least one of these variables must be set and non-empty. */
  anyOf: string[];
  /** Otherwise the container logs these lines and exits with this code. */
  logs: string[];
  exitCode: number;
}

export interface CatalogImage {
  /** As normalised by the runtime: docker.io/library/nginx, registry.k8s.io/e2e-test-images/agnhost */
  repository: string;
  /** Regular expression (anchored) every known tag matches. */
  tags: string;
  /** Tag used in messages for `:latest` pulls and version templates when the tag says nothing. */
  version: string;
  sizeBytes: number;
  kind: 'shell' | 'service' | 'workbench';
  /** A shell image whose root file system the kubelet builds (busybox underneath); others see the host's tools. */
  rootFilesystem?: RootFilesystemKind;
  /**
   * For an image on the host's tools: programs the image has at a path of its own that are a host
   * program under another name (the python image's /usr/local/bin/python is python3), image path → host path.
   */
  hostPrograms?: Record<string, string>;
  /**
   * For service images: the programs that are the simulated server itself (a command or args naming
   * one keeps the simulation); a command or args naming any other program the image has runs for real.
   */
  servers?: string[];
  /** For web servers: where they serve files from; a volume mounted there is served (html-documents.ts). */
  documentRoot?: string;
  /** What runs without spec.command / spec.args (the image's ENTRYPOINT and CMD). */
  entrypoint?: string[];
  cmd?: string[];
  /** For service images: the behaviour, by first argument when the image has subcommands ('' = none given). */
  behaviour?: ImageBehaviour;
  subcommands?: Record<string, ImageBehaviour>;
  requiredEnv?: EnvRequirement;
  /** The registry refuses the pull (retired registry, private repository). */
  unavailable?: 'not-found' | 'denied';
  /** Tags that behave differently (the demo app's broken release). */
  tagBehaviour?: Record<string, Partial<ImageBehaviour>>;
}
