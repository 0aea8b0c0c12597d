// Where the simulated nginx listens, as its configuration says: nginx.conf (a volume mounted over
// it, else the image's, which includes conf.d/*.conf) and conf.d (a ConfigMap mounted there, else
// the image's own files). Each `server` of the http context listens on its `listen` ports (80 when
// it names none); one with `ssl` serves TLS with the `ssl_certificate` and `ssl_certificate_key`
// read from the container's volumes (a TLS Secret mounted at /etc/nginx/ssl, as "Connecting
// Applications with Services" does). A file that is missing or unusable stops nginx at start with
// its own `[emerg]` message. Without any configuration in a volume or the image's files, the
// image's defaults hold.
import { createSecureContext } from 'node:tls';
import { posix } from 'node:path';
import { listMountedDirectory, readMountedFile } from './html-documents.ts';
import type { SandboxMount } from './sandbox/index.ts';

const MAIN_CONF = '/etc/nginx/nginx.conf';
const CONF_DIRECTORY = '/etc/nginx/conf.d';

export interface TlsCredentials {
  cert: string;
  key: string;
}

export interface NginxListening {
  /** Plain HTTP ports. */
  http: ReadonlySet<number>;
  /** HTTPS ports with their certificate and key. */
  tls: ReadonlyMap<number, TlsCredentials>;
}

export type NginxConfig = { listening: NginxListening } | { failure: string };

interface ServerBlock {
  listens: Array<{ port: number; ssl: boolean }>;
  certificate?: string;
  certificateKey?: string;
}

interface Parsed {
  servers: ServerBlock[];
  /** `include` patterns of the http context. */
  includes: string[];
}

/** nginx's tokens: words (quotes kept out), `;`, `{` and `}`; comments dropped. */
function tokens(text: string): string[] {
  const out: string[] = [];
  for (const match of text.replace(/#[^\n]*/g, '').matchAll(/"([^"]*)"|'([^']*)'|([{};])|([^\s{};"']+)/g)) out.push(match[1] ?? match[2] ?? match[3] ?? match[4] ?? '');
  return out;
}

/**
 * The `server` blocks of the http context and its includes: `within` is the context the text is
 * read in (nginx.conf starts at the top, a conf.d file is included inside http).
 */
export function parseNginx(text: string, within: 'main' | 'http'): Parsed {
  const parsed: Parsed = { servers: [], includes: [] };
  // Each open block: its name, and the server it is (a server of the http context).
  const stack: Array<{ name: string; server?: ServerBlock }> = [];
  const inHttp = () => (within === 'http' ? stack.length === 0 : stack.length === 1 && stack[0]?.name === 'http');
  let words: string[] = [];
  for (const token of tokens(text)) {
    if (token === '{') {
      const name = words[0] ?? '';
      stack.push(name === 'server' && inHttp() ? { name, server: { listens: [] } } : { name });
      words = [];
    } else if (token === '}') {
      const block = stack.pop();
      if (block?.server) parsed.servers.push(block.server);
      words = [];
    } else if (token === ';') {
      const server = stack[stack.length - 1]?.server;
      const [name, ...args] = words;
      if (server && name === 'listen' && args[0] && !args[0].startsWith('unix:')) {
        const port = Number(/(\d+)$/.exec(args[0])?.[1]);
        if (Number.isInteger(port)) server.listens.push({ port, ssl: args.includes('ssl') });
      }
      if (server && name === 'ssl_certificate' && args[0]) server.certificate = args[0];
      if (server && name === 'ssl_certificate_key' && args[0]) server.certificateKey = args[0];
      if (name === 'include' && args[0] && inHttp()) parsed.includes.push(args[0]);
      words = [];
    } else words.push(token);
  }
  return parsed;
}

/** What a missing file makes nginx say as it starts (OpenSSL 3's words). */
function cannotLoad(what: 'certificate' | 'certificate key', path: string): string {
  return `nginx: [emerg] cannot load ${what} "${path}": BIO_new_file() failed (SSL: error:80000002:system library::No such file or directory:calling fopen(${path}, r) error:10000080:BIO routines::no such file)`;
}

/** Whether some volume is mounted on `path` or above it. */
function covered(mounts: SandboxMount[], path: string): boolean {
  return mounts.some((mount) => path === mount.target || path.startsWith(`${mount.target}/`));
}

/** conf.d's files: from the volume mounted there, else the image's; undefined when neither has any. */
function confDirectory(mounts: SandboxMount[], imageFiles: Record<string, string>): string[] | undefined {
  if (covered(mounts, CONF_DIRECTORY)) {
    return listMountedDirectory(mounts, CONF_DIRECTORY)
      .filter((name) => name.endsWith('.conf'))
      .sort()
      .map((name) => readMountedFile(mounts, posix.join(CONF_DIRECTORY, name)) ?? '');
  }
  const own = Object.entries(imageFiles).filter(([path]) => posix.dirname(path) === CONF_DIRECTORY && path.endsWith('.conf'));
  return own.length > 0 ? own.map(([, text]) => text) : undefined;
}

/** The servers nginx would run: from a volume's nginx.conf and what it includes of conf.d, else conf.d; undefined: the image's defaults. */
function serversOf(mounts: SandboxMount[], imageFiles: Record<string, string>): ServerBlock[] | { failure: string } | undefined {
  if (covered(mounts, MAIN_CONF)) {
    const text = readMountedFile(mounts, MAIN_CONF);
    if (text === undefined) return { failure: `nginx: [emerg] open() "${MAIN_CONF}" failed (2: No such file or directory)` };
    const main = parseNginx(text, 'main');
    const includesConfD = main.includes.some((pattern) => posix.resolve('/etc/nginx', pattern) === `${CONF_DIRECTORY}/*.conf`);
    const included = includesConfD ? (confDirectory(mounts, imageFiles) ?? []) : [];
    return [...main.servers, ...included.flatMap((conf) => parseNginx(conf, 'http').servers)];
  }
  return confDirectory(mounts, imageFiles)?.flatMap((conf) => parseNginx(conf, 'http').servers);
}

/** The ports an nginx container listens on, with the credentials of its HTTPS ones. */
export function nginxConfig(mounts: SandboxMount[], imageFiles: Record<string, string>): NginxConfig | undefined {
  const servers = serversOf(mounts, imageFiles);
  if (servers === undefined || 'failure' in servers) return servers;
  const http = new Set<number>();
  const tls = new Map<number, TlsCredentials>();
  for (const server of servers) {
    const listens = server.listens.length > 0 ? server.listens : [{ port: 80, ssl: false }];
    for (const listen of listens) if (!listen.ssl) http.add(listen.port);
    const secure = listens.filter((listen) => listen.ssl);
    if (secure.length === 0) continue;
    if (!server.certificate) return { failure: `nginx: [emerg] no "ssl_certificate" is defined for the "listen ... ssl" directive in ${CONF_DIRECTORY}` };
    const cert = readMountedFile(mounts, server.certificate);
    if (cert === undefined) return { failure: cannotLoad('certificate', server.certificate) };
    const keyPath = server.certificateKey ?? server.certificate;
    const key = readMountedFile(mounts, keyPath);
    if (key === undefined) return { failure: cannotLoad('certificate key', keyPath) };
    try {
      createSecureContext({ cert, key });
    } catch {
      return { failure: `nginx: [emerg] cannot load certificate key "${keyPath}": PEM_read_bio_PrivateKey() failed (SSL: error:1E08010C:DECODER routines::unsupported:No supported data to decode.)` };
    }
    for (const listen of secure) tls.set(listen.port, { cert, key });
  }
  return { listening: { http, tls } };
}
