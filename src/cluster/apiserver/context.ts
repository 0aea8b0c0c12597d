// The state one API server shares across requests, and the record of one request as it moves
// through authentication, authorization and the handlers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { KubeObject } from '../types.ts';
import type { Registry, ResourceDefinition, UserInfo } from '../registry/index.ts';
import type { WebhookAdmission } from './admission/webhooks/index.ts';
import type { Authenticator, Authorizer, ServiceAccountTokens } from './auth/index.ts';
import type { Discovery } from './discovery.ts';
import type { RequestInfo } from './request-info.ts';

export interface RequestScope {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  query: URLSearchParams;
  info: RequestInfo;
  user: UserInfo;
  /** Collected while handling; sent as Warning headers with the answer. */
  warnings: string[];
  pretty: boolean;
}

/** A request for a streaming subresource (pods log/exec/attach/portforward, proxy) handed to its hook. */
export interface ConnectRequest {
  subresource: string;
  def: ResourceDefinition;
  /** The object the subresource belongs to, read just before the hook runs. */
  object: KubeObject;
  query: URLSearchParams;
  user: UserInfo;
  req: IncomingMessage;
  /** Set for plain HTTP requests (log, SPDY upgrade attempts): the hook answers on it. */
  res?: ServerResponse;
  /** Set for WebSocket upgrades: the hook completes (or refuses) the handshake on the socket. */
  upgrade?: { socket: Duplex; head: Buffer };
  /** For proxy: what the URL's `[scheme:]name[:port]` and the path after `/proxy` asked for. */
  proxy?: ProxyTarget;
}

export interface ProxyTarget {
  scheme: 'http' | 'https' | '';
  port: string;
  /** The path to request from the target, with the query: `/` when the URL ends at `/proxy`. */
  path: string;
}

/** Serves streaming subresources (the kubelet's part); resolves once the request is answered or handed off. */
export type ConnectHandler = (request: ConnectRequest) => void | Promise<void>;

/** pods/eviction with PodDisruptionBudgets honoured (the disruption controller's part); throws a Status error to refuse. */
export type EvictionHandler = (namespace: string, name: string, options: { user: UserInfo; dryRun: boolean; gracePeriodSeconds?: number }) => void;

/** Where the figures come from (the kubelet's scrapes); undefined: no window yet for that pod or node. */
export interface ResourceMetricsSource {
  podMetrics(namespace: string, name: string): KubeObject | undefined;
  nodeMetrics(name: string): KubeObject | undefined;
}

export interface ApiContext {
  registry: Registry;
  discovery: Discovery;
  clock: () => Date;
  /** host:port the server is reached at, for APIVersions.serverAddressByClientCIDRs */
  serverAddress: () => string;
  connect: ConnectHandler | undefined;
  evict?: EvictionHandler;
  /** Serves metrics.k8s.io (metrics-server's part); absent: the group is not served. */
  metrics?: ResourceMetricsSource;
  authenticator: Authenticator;
  authorizer: Authorizer;
  tokens: ServiceAccountTokens;
  /** Calls the admission webhooks that Validating/MutatingWebhookConfigurations name. */
  webhooks: WebhookAdmission;
  watch: {
    defaultTimeoutSeconds: number;
    /** Unsent bytes every watch response together may hold; each open watch gets an even share. */
    maxBufferedBytes: number;
    /** The watch responses being served now. */
    open: Set<object>;
  };
}
