// Public face of the API server: an HTTPS server on 127.0.0.1 that speaks the Kubernetes API
// over a Registry, for real kubectl and client-node.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Registry } from '../registry/index.ts';
import { type ClusterEgress, createWebhookAdmission, type WebhookAdmission } from './admission/webhooks/index.ts';
import { createAuthenticator, createAuthorizer, type ServiceAccountTokens } from './auth/index.ts';
import type { ApiContext, ConnectHandler, EvictionHandler, ResourceMetricsSource } from './context.ts';
import { Discovery } from './discovery.ts';
import { metricsDefinitions, metricsRegistered } from './metrics-api.ts';
import { ApiHandler, stderrLogger, type AuditSink, type Logger } from './server.ts';

export type { ConnectHandler, ConnectRequest, EvictionHandler, ProxyTarget } from './context.ts';
export type { ResourceMetricsSource } from './context.ts';
export { stderrLogger, type AuditEvent, type AuditSink, type Logger } from './server.ts';
export { loadOrCreateServingCertificates, type ServingCertificates } from './certificates.ts';
export { serverVersion } from './server.ts';
export { adminUser, openServiceAccountTokens, type ServiceAccountTokens } from './auth/index.ts';
export { bootstrapCluster, type BootstrapOptions } from './bootstrap.ts';
export { admissionPlugins } from './admission/index.ts';
export { type ClusterEgress, createWebhookAdmission, type WebhookAdmission } from './admission/webhooks/index.ts';

export interface ApiServerOptions {
  registry: Registry;
  /** PEM server certificate and key (see loadOrCreateServingCertificates). */
  certPem: string;
  keyPem: string;
  /** The CA whose client certificates authenticate their CN as the user and O as groups (kube-apiserver's --client-ca-file). */
  clientCaPem?: string;
  /** The token that authenticates as the cluster admin (system:masters). */
  adminToken: string;
  /** Issues and verifies ServiceAccount tokens (see openServiceAccountTokens). */
  tokens: ServiceAccountTokens;
  host?: string;
  /** 0 (the default) picks a free port. */
  port?: number;
  clock?: () => Date;
  /** Serves pods log/exec/attach/portforward (the kubelet, part 2). */
  connect?: ConnectHandler;
  /** Decides pods/eviction (PodDisruptionBudgets); without it an eviction is a plain delete. */
  evict?: EvictionHandler;
  /** Serves the resource metrics API (metrics.k8s.io), as metrics-server behind the aggregator. */
  metrics?: ResourceMetricsSource;
  /** The way into the cluster's network for admission webhooks (their Services and URLs); without it no webhook can be reached. */
  clusterEgress?: ClusterEgress;
  /** The admission webhooks, when the caller shares them with its controllers; else made here with clusterEgress. */
  webhooks?: WebhookAdmission;
  log?: Logger;
  /** Receives an audit.k8s.io/v1 Event per authenticated request (`formicary cluster --audit-log-path`). */
  audit?: AuditSink;
  watch?: Partial<ApiContext['watch']>;
}

export interface ApiServer {
  /** https://127.0.0.1:<port> */
  url: string;
  port: number;
  close(): Promise<void>;
}

export async function startApiServer(options: ApiServerOptions): Promise<ApiServer> {
  const host = options.host ?? '127.0.0.1';
  const { registry } = options;
  const clock = options.clock ?? (() => new Date());
  const { tokens } = options;
  const discovery = new Discovery(options.metrics ? () => [...registry.resources(), ...(metricsRegistered(registry) ? metricsDefinitions : [])] : () => registry.resources());
  let address = `${host}:0`;
  const ctx: ApiContext = {
    registry,
    discovery,
    clock,
    serverAddress: () => address,
    connect: options.connect,
    ...(options.evict ? { evict: options.evict } : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
    authenticator: createAuthenticator({ adminToken: options.adminToken, registry, tokens, clock }),
    authorizer: createAuthorizer(registry),
    tokens,
    webhooks: options.webhooks ?? createWebhookAdmission(registry, options.clusterEgress),
    watch: { defaultTimeoutSeconds: 1800, maxBufferedBytes: 64 * 1024 * 1024, ...options.watch, open: new Set() },
  };
  const handler = new ApiHandler(ctx, options.log ?? stderrLogger, options.audit);
  const unsubscribe = registry.onResourcesChanged(() => handler.resourcesChanged());
  // Discovery of an aggregated group follows its APIService (deleted or unavailable: not served).
  const apiServices = registry.lookup('apiregistration.k8s.io', 'v1', 'apiservices');
  const apiServiceWatch = options.metrics && apiServices ? registry.watch(apiServices, {}, () => handler.resourcesChanged()) : undefined;
  // A client certificate is asked for, never required: kubectl with a token sends none.
  const clientCertificates = options.clientCaPem ? { requestCert: true, rejectUnauthorized: false, ca: options.clientCaPem } : {};
  const server: Server = createServer({ cert: options.certPem, key: options.keyPem, keepAliveTimeout: 60_000, ...clientCertificates }, handler.request);
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
  // Listening on every interface, the cluster's own clients (kubeconfig, kubelet) use the loopback one.
  const reach = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  address = `${reach.includes(':') ? `[${reach}]` : reach}:${port}`;
  return {
    url: `https://${address}`,
    port,
    async close() {
      unsubscribe();
      apiServiceWatch?.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
