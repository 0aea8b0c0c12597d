// Public face of the API server: an HTTPS server on 127.0.0.1 that speaks the Kubernetes API
// over a Registry, for real kubectl and client-node.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Registry } from '../registry/index.ts';
import { createAuthenticator, createAuthorizer } from './auth/index.ts';
import type { ApiContext, ConnectHandler } from './context.ts';
import { Discovery } from './discovery.ts';
import { createOpenApi } from './pending/openapi.ts';
import { createTokenIssuer, type TokenIssuer } from './pending/tokens.ts';
import { ApiHandler, type Logger } from './server.ts';

export type { ConnectHandler, ConnectRequest } from './context.ts';
export type { Logger } from './server.ts';
export { loadOrCreateServingCertificates, type ServingCertificates } from './certificates.ts';
export { serverVersion } from './server.ts';
export { adminUser } from './auth/index.ts';
export { bootstrapCluster, type BootstrapOptions } from './bootstrap.ts';
export { admissionPlugins } from './admission/index.ts';

export interface ApiServerOptions {
  registry: Registry;
  /** PEM server certificate and key (see loadOrCreateServingCertificates). */
  certPem: string;
  keyPem: string;
  /** The token that authenticates as the cluster admin (system:masters). */
  adminToken: string;
  /** Key ServiceAccount tokens are signed and verified with. */
  serviceAccountKey: Buffer;
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  clock?: () => Date;
  /** Serves pods log/exec/attach/portforward (the kubelet, part 2). */
  connect?: ConnectHandler;
  log?: Logger;
  watch?: Partial<ApiContext['watch']>;
}

export interface ApiServer {
  /** https://127.0.0.1:<port> */
  url: string;
  port: number;
  tokens: TokenIssuer;
  close(): Promise<void>;
}

const silent: Logger = { error() {} };

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const host = options.host ?? '127.0.0.1';
  const { registry } = options;
  const clock = options.clock ?? (() => new Date());
  const tokens = createTokenIssuer(options.serviceAccountKey);
  const discovery = new Discovery(() => registry.resources());
  const unsubscribe = registry.onResourcesChanged(() => discovery.invalidate());
  let address = `${host}:0`;
  const ctx: ApiContext = {
    registry,
    discovery,
    clock,
    serverAddress: () => address,
    connect: options.connect,
    authenticator: createAuthenticator({ adminToken: options.adminToken, registry, tokens, clock }),
    authorizer: createAuthorizer(registry),
    tokens,
    watch: { defaultTimeoutSeconds: 1800, maxBufferedBytes: 16 * 1024 * 1024, ...options.watch },
  };
  const handler = new ApiHandler(ctx, createOpenApi(() => registry.resources()), options.log ?? silent);
  const server: Server = createServer({ cert: options.certPem, key: options.keyPem, keepAliveTimeout: 60_000 }, handler.request);
  server.on('upgrade', handler.upgrade);
  server.on('clientError', (_error, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  address = `${host}:${port}`;
  return {
    url: `https://${host}:${port}`,
    port,
    tokens,
    async close() {
      unsubscribe();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
