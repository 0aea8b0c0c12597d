// HTTPS for the simulated nginx: its server blocks (conf.d, from a volume mounted there, else the
// image's own) say which ports `listen … ssl` and where `ssl_certificate` and `ssl_certificate_key`
// are; those files are read from the container's volumes (a TLS Secret mounted at /etc/nginx/ssl,
// as "Connecting Applications with Services" does), and the pod's port serves TLS with them. A
// certificate that is missing or unusable stops nginx at start with its own `[emerg]` message.
import { createSecureContext } from 'node:tls';
import { posix } from 'node:path';
import { listMountedDirectory, readMountedFile } from './html-documents.ts';
import type { SandboxMount } from './sandbox/index.ts';

const CONF_DIRECTORY = '/etc/nginx/conf.d';

export interface TlsCredentials {
  cert: string;
  key: string;
}

export type NginxTls = { ports: Map<number, TlsCredentials> } | { failure: string };

interface ServerBlock {
  listens: Array<{ port: number; ssl: boolean }>;
  certificate?: string;
  certificateKey?: string;
}

/** nginx's tokens: words (quotes kept out), `;`, `{` and `}`; comments dropped. */
function tokens(text: string): string[] {
  const out: string[] = [];
  for (const match of text.replace(/#[^\n]*/g, '').matchAll(/"([^"]*)"|'([^']*)'|([{};])|([^\s{};"']+)/g)) out.push(match[1] ?? match[2] ?? match[3] ?? match[4] ?? '');
  return out;
}

/** The `server` blocks of a conf.d file (an http-level include) and what they say about TLS. */
export function serverBlocks(text: string): ServerBlock[] {
  const servers: ServerBlock[] = [];
  const stack: Array<ServerBlock | undefined> = [];
  let words: string[] = [];
  for (const token of tokens(text)) {
    if (token === '{') {
      stack.push(words[0] === 'server' && stack.every((block) => block === undefined) ? { listens: [] } : undefined);
      words = [];
    } else if (token === '}') {
      const block = stack.pop();
      if (block) servers.push(block);
      words = [];
    } else if (token === ';') {
      const server = stack.length === 1 ? stack[0] : undefined;
      const [name, ...args] = words;
      if (server && name === 'listen' && args[0]) {
        const port = Number(/(\d+)$/.exec(args[0])?.[1]);
        if (Number.isInteger(port)) server.listens.push({ port, ssl: args.includes('ssl') });
      }
      if (server && name === 'ssl_certificate' && args[0]) server.certificate = args[0];
      if (server && name === 'ssl_certificate_key' && args[0]) server.certificateKey = args[0];
      words = [];
    } else words.push(token);
  }
  return servers;
}

/** What a missing file makes nginx say as it starts (OpenSSL 3's words). */
function cannotLoad(what: 'certificate' | 'certificate key', path: string): string {
  return `nginx: [emerg] cannot load ${what} "${path}": BIO_new_file() failed (SSL: error:80000002:system library::No such file or directory:calling fopen(${path}, r) error:10000080:BIO routines::no such file)`;
}

/**
 * The TLS ports of an nginx container: its conf.d from the volume mounted there, else the image's
 * own files; undefined when no server listens with ssl.
 */
export function nginxTls(mounts: SandboxMount[], imageFiles: Record<string, string>): NginxTls | undefined {
  const mounted = listMountedDirectory(mounts, CONF_DIRECTORY).filter((name) => name.endsWith('.conf'));
  const configs = mounted.length > 0 || mounts.some((mount) => mount.target === CONF_DIRECTORY)
    ? mounted.map((name) => readMountedFile(mounts, posix.join(CONF_DIRECTORY, name)) ?? '')
    : Object.entries(imageFiles).filter(([path]) => posix.dirname(path) === CONF_DIRECTORY && path.endsWith('.conf')).map(([, text]) => text);
  const ports = new Map<number, TlsCredentials>();
  for (const server of configs.flatMap(serverBlocks)) {
    const secure = server.listens.filter((listen) => listen.ssl);
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
    for (const listen of secure) ports.set(listen.port, { cert, key });
  }
  return ports.size > 0 ? { ports } : undefined;
}
