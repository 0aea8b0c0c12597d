// The request pipeline: authenticate → impersonate → authorize → route. Non-resource paths
// (discovery, version, OpenAPI, health) are answered here; resource requests go to the verb
// handlers. Whatever goes wrong becomes a Status reply; the server itself keeps serving.
import { randomUUID } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { type StatusError, statusErrors } from '../types.ts';
import type { ResourceDefinition, UserInfo } from '../registry/index.ts';
import { anonymousUser as anonymousUsername, forbiddenError, mastersGroup, unauthenticatedGroup, type AuthorizationAttributes } from './auth/index.ts';
import { WebhookCallError } from './admission/webhooks/index.ts';
import type { ApiContext, RequestScope } from './context.ts';
import { aggregatedDiscoveryContentType } from './discovery.ts';
import { negotiateDiscovery } from './media.ts';
import { libraries } from './libraries.ts';
import { METRICS_GROUP, metricsDefinitions, metricsRegistered, serveMetrics } from './metrics-api.ts';
import type { OpenApi } from './openapi/index.ts';
import { patchObject } from './patching.ts';
import { requestInfoFor, type RequestInfo } from './request-info.ts';
import { createObject, deleteCollection, deleteObject, getObject, listObjects, updateObject } from './resources.ts';
import { asStatusError, httpErrors, sendObject, sendRaw, sendStatus, sendText } from './respond.ts';
import { createReview, createTokenRequest, isReviewResource } from './reviews.ts';
import { bindPod, connect, evictPod, getScale, streamingSubresources, updateScale } from './subresources.ts';
import { watchObjects } from './watch.ts';

/** The cluster's structured log (pino-compatible in shape; pino itself is not loaded at start). */
export interface Logger {
  error(fields: Record<string, unknown>, message: string): void;
  warn(fields: Record<string, unknown>, message: string): void;
}

function logLine(level: 'error' | 'warn', fields: Record<string, unknown>, message: string): void {
  const entry: Record<string, unknown> = { level, time: new Date().toISOString(), msg: message };
  for (const [key, value] of Object.entries(fields)) entry[key] = value instanceof Error ? { message: value.message, stack: value.stack } : value;
  process.stderr.write(JSON.stringify(entry) + '\n');
}

/** One JSON object a line on stderr. */
export const stderrLogger: Logger = {
  error: (fields, message) => logLine('error', fields, message),
  warn: (fields, message) => logLine('warn', fields, message),
};

/** What /version reports: the Kubernetes release whose API this server follows. */
export const serverVersion = {
  major: '1',
  minor: '33',
  // Compatibility versions (KEP-4330), reported by every 1.33 server.
  emulationMajor: '1',
  emulationMinor: '33',
  minCompatibilityMajor: '1',
  minCompatibilityMinor: '32',
  gitVersion: 'v1.33.0+formicary',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2025-04-23T00:00:00Z',
  goVersion: 'go1.24.2',
  compiler: 'gc',
  platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
};

/** Who asks for the few paths open without credentials. */
const anonymousUser: UserInfo = { username: anonymousUsername, groups: [unauthenticatedGroup] };

const healthPaths = new Set(['/healthz', '/livez', '/readyz', '/healthz/ping', '/livez/ping', '/readyz/ping']);
/** Paths anyone may read without credentials, as kube-apiserver's anonymous-auth endpoint list does. */
const anonymousPaths = new Set([...healthPaths, '/version']);

/**
 * LISTs one user may have in flight (answers being built or sent): each can be a namespace's
 * whole storage budget serialized, so their number is what bounds the memory one learner's
 * parallel requests take. Past it the answer is API Priority and Fairness's 429, which client-go
 * and kubectl retry after Retry-After; system:masters is exempt, as upstream.
 */
const LISTS_IN_FLIGHT_PER_USER = 2;

/** How long a connection whose body was refused stays open after the answer, for the client to read it. */
const UNREAD_BODY_LINGER_MS = 500;

/** exec, attach and portforward are writes into a pod whatever the HTTP method (upstream's WebSocket upgrade authorization). */
const createVerbSubresources = new Set(['exec', 'attach', 'portforward']);

function parseUrl(raw: string | undefined): URL {
  try {
    return new URL(raw ?? '/', 'https://127.0.0.1');
  } catch {
    throw statusErrors.badRequest(`the request URL could not be parsed: ${JSON.stringify(raw)}`);
  }
}

function attributesFor(info: RequestInfo, user: UserInfo): AuthorizationAttributes {
  const verb = info.isResourceRequest && createVerbSubresources.has(info.subresource) && info.resource === 'pods' ? 'create' : info.verb;
  return {
    user,
    verb,
    resourceRequest: info.isResourceRequest,
    path: info.path,
    namespace: info.namespace,
    apiGroup: info.apiGroup,
    apiVersion: info.apiVersion,
    resource: info.resource,
    subresource: info.subresource,
    name: info.name,
  };
}

/**
 * One audit.k8s.io/v1 Event at the Metadata level and ResponseComplete stage, as kube-apiserver's
 * audit log writes it: who asked for what (verb, objectRef) and the answer's code.
 */
export interface AuditEvent {
  kind: 'Event';
  apiVersion: 'audit.k8s.io/v1';
  level: 'Metadata';
  auditID: string;
  stage: 'ResponseComplete';
  requestURI: string;
  verb: string;
  user: { username: string; groups: string[] };
  sourceIPs: string[];
  userAgent?: string;
  objectRef?: { resource: string; namespace?: string; name?: string; apiGroup?: string; apiVersion: string; subresource?: string };
  responseStatus: { metadata: Record<string, never>; code: number };
  requestReceivedTimestamp: string;
  stageTimestamp: string;
}

export type AuditSink = (event: AuditEvent) => void;

function microTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class ApiHandler {
  readonly #ctx: ApiContext;
  readonly #log: Logger;
  readonly #audit: AuditSink | undefined;
  readonly #listsInFlight = new Map<string, number>();
  #openapi: OpenApi | undefined;

  constructor(ctx: ApiContext, log: Logger, audit?: AuditSink) {
    this.#ctx = ctx;
    this.#log = log;
    this.#audit = audit;
  }

  /** Writes the request's audit event once its answer is known (authenticated requests only, as upstream's audit of resource requests). */
  #audited(req: IncomingMessage, user: UserInfo, info: RequestInfo, received: Date, code: () => number): (codeOverride?: number) => void {
    const sink = this.#audit;
    if (!sink || user === anonymousUser) return () => undefined;
    let done = false;
    return (codeOverride) => {
      if (done) return;
      done = true;
      const objectRef = info.isResourceRequest
        ? {
            resource: info.resource,
            ...(info.namespace ? { namespace: info.namespace } : {}),
            ...(info.name ? { name: info.name } : {}),
            ...(info.apiGroup ? { apiGroup: info.apiGroup } : {}),
            apiVersion: info.apiVersion,
            ...(info.subresource ? { subresource: info.subresource } : {}),
          }
        : undefined;
      sink({
        kind: 'Event',
        apiVersion: 'audit.k8s.io/v1',
        level: 'Metadata',
        auditID: randomUUID(),
        stage: 'ResponseComplete',
        requestURI: req.url ?? '/',
        verb: attributesFor(info, user).verb,
        user: { username: user.username, groups: user.groups },
        sourceIPs: [req.socket.remoteAddress ?? ''],
        ...(req.headers['user-agent'] ? { userAgent: req.headers['user-agent'] } : {}),
        ...(objectRef ? { objectRef } : {}),
        responseStatus: { metadata: {}, code: codeOverride ?? code() },
        requestReceivedTimestamp: microTime(received),
        stageTimestamp: microTime(new Date()),
      });
    };
  }

  /** The set of served resources changed (a CRD came or went): discovery and OpenAPI follow. */
  resourcesChanged(): void {
    this.#ctx.discovery.invalidate();
    this.#openapi?.invalidate();
  }

  async #openApi(): Promise<OpenApi> {
    if (!this.#openapi) {
      const { createOpenApi } = await libraries.openapi();
      this.#openapi ??= createOpenApi(() => this.#ctx.registry.resources());
    }
    return this.#openapi;
  }

  /** The 'request' listener of the HTTPS server. */
  readonly request = (req: IncomingMessage, res: ServerResponse): void => {
    this.#handle(req, res).catch((error: unknown) => this.#fail(req, res, error));
  };

  /** The 'upgrade' listener: exec/attach/portforward over WebSocket or SPDY/3.1 go to the connect hook. */
  readonly upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', () => socket.destroy());
    this.#handleUpgrade(req, socket, head).catch((error: unknown) => {
      const status = asStatusError(error);
      this.#logFailure(req, error, status, 'upgrade request failed');
      if (socket.writable) {
        const body = JSON.stringify(status.status) + '\n';
        socket.end(
          `HTTP/1.1 ${status.code} ${STATUS_CODES[status.code] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
        );
      }
    });
  };

  /** A server error is logged with its stack; a webhook that could not be called is the webhook's failing, one warning line. */
  #logFailure(req: IncomingMessage, error: unknown, status: StatusError, message: string): void {
    if (error instanceof WebhookCallError) this.#log.warn({ method: req.method, url: req.url, reason: status.message }, 'Failed calling webhook, failing closed');
    else if (status.code >= 500) this.#log.error({ err: error, method: req.method, url: req.url }, message);
  }

  #fail(req: IncomingMessage, res: ServerResponse, error: unknown): void {
    const status = asStatusError(error);
    this.#logFailure(req, error, status, 'request failed');
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // Unread body bytes would be taken for the next request on this connection: it closes once
    // answered. A body refused for its size is never read out: the server closes its side and, a
    // moment later for the client to read the answer while it is still sending, the connection
    // (Go's closeWriteAndWait); closing at once would reset it, and the client would see a broken
    // pipe instead of the Status.
    if (!req.complete && status.code === 413) {
      res.once('finish', () => {
        req.socket.end();
        setTimeout(() => req.socket.destroy(), UNREAD_BODY_LINGER_MS).unref();
      });
    } else if (!req.complete) {
      res.setHeader('Connection', 'close');
    }
    sendStatus(res, status.status);
  }

  #authenticate(req: IncomingMessage, url: URL): UserInfo {
    // A client certificate or a bearer token; a request with neither is anonymous where that is allowed.
    const user = this.#ctx.authenticator.authenticate(req);
    if (user) return this.#ctx.authorizer.impersonate(req, user);
    if (req.headers.authorization === undefined && anonymousPaths.has(url.pathname)) return anonymousUser;
    throw httpErrors.unauthorized();
  }

  #authorize(info: RequestInfo, user: UserInfo): void {
    if (user === anonymousUser) return;
    const attributes = attributesFor(info, user);
    const decision = this.#ctx.authorizer.authorize(attributes);
    if (!decision.allowed) throw forbiddenError(attributes, decision.reason);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const received = new Date();
    const url = parseUrl(req.url);
    const user = this.#authenticate(req, url);
    const info = requestInfoFor(req.method ?? 'GET', url);
    const audit = this.#audited(req, user, info, received, () => res.statusCode);
    res.once('finish', () => audit());
    res.once('close', () => audit());
    this.#authorize(info, user);
    const scope: RequestScope = { req, res, url, query: url.searchParams, info, user, warnings: [], pretty: url.searchParams.get('pretty') === 'true' };
    if (info.isResourceRequest && info.verb === 'list' && !user.groups.includes(mastersGroup) && !this.#admitList(user.username, res)) {
      res.setHeader('Retry-After', '1');
      sendText(res, 429, 'Too many requests, please try again later.\n');
      return;
    }
    if (info.isResourceRequest) {
      await this.#resource(scope);
      return;
    }
    await this.#nonResource(scope);
  }

  /** Counts the LIST in until its answer is sent; false when the user already has their share in flight. */
  #admitList(username: string, res: ServerResponse): boolean {
    const inFlight = this.#listsInFlight.get(username) ?? 0;
    if (inFlight >= LISTS_IN_FLIGHT_PER_USER) return false;
    this.#listsInFlight.set(username, inFlight + 1);
    res.once('close', () => {
      const left = (this.#listsInFlight.get(username) ?? 1) - 1;
      if (left > 0) this.#listsInFlight.set(username, left);
      else this.#listsInFlight.delete(username);
    });
    return true;
  }

  async #handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const url = parseUrl(req.url);
    const received = new Date();
    const user = this.#authenticate(req, url);
    const info = requestInfoFor(req.method ?? 'GET', url);
    const audit = this.#audited(req, user, info, received, () => 101);
    try {
      this.#authorize(info, user);
      const def = info.isResourceRequest ? this.#ctx.registry.lookup(info.apiGroup, info.apiVersion, info.resource) : undefined;
      if (!def || !streamingSubresources.has(info.subresource) || !def.subresources.some((sub) => sub.name === info.subresource)) throw httpErrors.notFoundPath();
      await connect(this.#ctx, { subresource: info.subresource, def, query: url.searchParams, user, req, upgrade: { socket, head } }, def.namespaced ? info.namespace : undefined, info.name, url);
      audit();
    } catch (error) {
      audit(asStatusError(error).code);
      throw error;
    }
  }

  async #nonResource(scope: RequestScope): Promise<void> {
    const { req, res, info } = scope;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      const known = this.#nonResourceExists(info.path);
      throw known ? httpErrors.methodNotAllowed(req.method ?? '') : httpErrors.notFoundPath();
    }
    const path = info.path.replace(/\/+$/, '') || '/';
    const segments = path.split('/').filter(Boolean);
    const discovery = this.#ctx.discovery;
    if (healthPaths.has(path)) {
      sendText(res, 200, 'ok');
      return;
    }
    if (path === '/version') {
      sendObject(res, 200, serverVersion, { pretty: true });
      return;
    }
    if (path === '/api' || path === '/apis') {
      const wanted = negotiateDiscovery(req.headers.accept);
      if (!wanted) throw httpErrors.notAcceptable('application/json, application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList');
      res.setHeader('Vary', 'Accept');
      const core = path === '/api';
      if (wanted.aggregated) {
        sendObject(res, 200, discovery.aggregated(core, wanted.version), { contentType: aggregatedDiscoveryContentType(wanted.version), pretty: scope.pretty });
      } else {
        sendObject(res, 200, core ? discovery.apiVersions(this.#ctx.serverAddress()) : discovery.apiGroupList(), { pretty: scope.pretty });
      }
      return;
    }
    if (segments[0] === 'api' && segments.length === 2) {
      this.#sendDiscovery(scope, discovery.apiResourceList('', segments[1]!));
      return;
    }
    if (segments[0] === 'apis' && segments.length === 2) {
      this.#sendDiscovery(scope, discovery.apiGroup(segments[1]!));
      return;
    }
    if (segments[0] === 'apis' && segments.length === 3) {
      this.#sendDiscovery(scope, discovery.apiResourceList(segments[1]!, segments[2]!));
      return;
    }
    if (path === '/openapi/v3') {
      sendObject(res, 200, (await this.#openApi()).index(), { pretty: scope.pretty });
      return;
    }
    if (segments[0] === 'openapi' && segments[1] === 'v3') {
      const document = (await this.#openApi()).document(segments.slice(2).join('/'));
      if (!document) throw httpErrors.notFoundPath();
      const etag = `"${document.etag}"`;
      res.setHeader('ETag', etag);
      res.setHeader('Vary', 'Accept');
      if (req.headers['if-none-match'] === etag) {
        res.statusCode = 304;
        res.end();
        return;
      }
      // A hash-addressed document never changes (client-go caches by hash); a bare URL must be re-read.
      const immutable = scope.query.get('hash') === document.etag;
      sendRaw(res, 200, document.body, 'application/json', immutable ? 'public, immutable' : 'no-cache, private');
      return;
    }
    if (path === '/openapi/v2') {
      // kubectl 1.27 and 1.28 fetch it before apply and explain; an empty document lets them go on to v3.
      const { emptyOpenApiV2Document, openApiV2ContentType } = await libraries.openapi();
      sendRaw(res, 200, Buffer.from(emptyOpenApiV2Document()), openApiV2ContentType, 'no-cache, private');
      return;
    }
    throw httpErrors.notFoundPath();
  }

  #nonResourceExists(path: string): boolean {
    return healthPaths.has(path) || path === '/version' || path === '/api' || path === '/apis' || path.startsWith('/api/') || path.startsWith('/apis/') || path.startsWith('/openapi/');
  }

  #sendDiscovery(scope: RequestScope, document: unknown): void {
    if (document === undefined) throw httpErrors.notFoundPath();
    sendObject(scope.res, 200, document, { pretty: scope.pretty });
  }

  async #resource(scope: RequestScope): Promise<void> {
    const { info } = scope;
    const ctx = this.#ctx;
    if (info.apiGroup === METRICS_GROUP && ctx.metrics && metricsRegistered(ctx.registry)) {
      const metricsDef = metricsDefinitions.find((candidate) => candidate.version === info.apiVersion && candidate.resource === info.resource);
      if (!metricsDef || (metricsDef.namespaced ? info.name !== '' && info.namespace === '' : info.namespace !== '')) throw httpErrors.notFoundPath();
      serveMetrics(ctx, scope, metricsDef, ctx.metrics);
      return;
    }
    const def = ctx.registry.lookup(info.apiGroup, info.apiVersion, info.resource);
    if (!def) throw httpErrors.notFoundPath();
    if (def.deprecation) scope.warnings.push(def.deprecation);
    if (!def.namespaced && info.namespace !== '' && !(def.group === '' && def.resource === 'namespaces')) throw httpErrors.notFoundPath();
    if (def.namespaced && info.name !== '' && info.namespace === '') throw httpErrors.notFoundPath();
    const sub = info.subresource;
    if (sub !== '' && !def.subresources.some((candidate) => candidate.name === sub)) throw httpErrors.notFoundPath();
    if (info.parts.length > 3 && sub !== 'proxy') throw httpErrors.notFoundPath();

    if (sub === '') {
      await this.#mainResource(scope, def);
      return;
    }
    if (streamingSubresources.has(sub)) {
      await connect(ctx, { subresource: sub, def, query: scope.query, user: scope.user, req: scope.req, res: scope.res }, def.namespaced ? info.namespace : undefined, info.name, scope.url);
      return;
    }
    const verb = info.verb;
    switch (`${sub} ${verb}`) {
      case 'status get':
      case 'approval get':
      case 'ephemeralcontainers get':
        return getObject(ctx, scope, def);
      case 'status update':
      case 'approval update':
      case 'finalize update':
      case 'ephemeralcontainers update':
        return updateObject(ctx, scope, def);
      case 'status patch':
      case 'approval patch':
      case 'scale patch':
      case 'ephemeralcontainers patch':
        return patchObject(ctx, scope, def);
      case 'scale get':
        return getScale(ctx, scope, def);
      case 'scale update':
        return updateScale(ctx, scope, def);
      case 'token create':
        return createTokenRequest(ctx, scope, def);
      case 'binding create':
        return bindPod(ctx, scope, def);
      case 'eviction create':
        return evictPod(ctx, scope, def);
      default:
        throw statusErrors.methodNotSupported({ group: def.group, resource: `${def.resource}/${sub}` }, verb || (scope.req.method ?? '').toLowerCase());
    }
  }

  async #mainResource(scope: RequestScope, def: ResourceDefinition): Promise<void> {
    const ctx = this.#ctx;
    const verb = scope.info.verb;
    if (!def.verbs.includes(verb)) throw statusErrors.methodNotSupported(def, verb || (scope.req.method ?? '').toLowerCase());
    if (isReviewResource(def)) return createReview(ctx, scope, def);
    switch (verb) {
      case 'get':
        return getObject(ctx, scope, def);
      case 'list':
        return listObjects(ctx, scope, def);
      case 'watch':
        return watchObjects(ctx, scope, def);
      case 'create':
        return createObject(ctx, scope, def);
      case 'update':
        return updateObject(ctx, scope, def);
      case 'patch':
        return patchObject(ctx, scope, def);
      case 'delete':
        return deleteObject(ctx, scope, def);
      case 'deletecollection':
        return deleteCollection(ctx, scope, def);
      default:
        throw statusErrors.methodNotSupported(def, verb);
    }
  }
}

