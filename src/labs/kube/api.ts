// client-node's KubernetesObjectApi, answering with the JSON the API server sent instead of
// client-node's model classes: checks must see an object as kubectl does (every field, timestamps
// as text), and setup manifests must reach the server as written so it can reject a misspelt field.
import { ApiException, HttpMethod, KubernetesObjectApi, Observable, type KubeConfig, type RequestContext, type ResponseContext } from '@kubernetes/client-node';

export type Query = Record<string, string | number | boolean | undefined>;

type Dispatcher = NonNullable<ReturnType<RequestContext['getDispatcher']>>;

/**
 * client-node 2.0 gives every request a new connection pool (a new TLS handshake each time, some
 * 15 ms and real CPU). The TLS settings of one KubeConfig do not change, so the first pool is
 * kept and reused; credentials travel in headers, which are still set per request.
 */
function reuseConnections(): { pre(context: RequestContext): Observable<RequestContext>; post(response: ResponseContext): Observable<ResponseContext> } {
  let shared: Dispatcher | undefined;
  return {
    pre(context) {
      const fresh = context.getDispatcher();
      if (fresh) {
        if (shared === undefined) shared = fresh;
        else if (fresh !== shared) {
          context.setDispatcher(shared);
          void fresh.close().catch(() => undefined);
        }
      }
      return new Observable(Promise.resolve(context));
    },
    post: (response) => new Observable(Promise.resolve(response)),
  };
}

export class RawObjectApi extends KubernetesObjectApi {
  static forConfig(kubeConfig: KubeConfig): RawObjectApi {
    const api = kubeConfig.makeApiClient(RawObjectApi);
    api.configuration.middleware.push(reuseConnections());
    return api;
  }

  protected override async processResponse<T>(response: ResponseContext): Promise<T> {
    const text = await response.body.text();
    const json = (response.headers['content-type'] ?? '').includes('json');
    if (response.httpStatusCode >= 200 && response.httpStatusCode <= 299) return (json ? (text === '' ? {} : JSON.parse(text)) : text) as T;
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not a Status object (a proxy in between, say): keep the text.
    }
    throw new ApiException(response.httpStatusCode, statusMessage(body) ?? `HTTP ${response.httpStatusCode}`, body, response.headers);
  }

  /** One request through client-node's pipeline (authentication, TLS, middleware). */
  async request<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, options: { query?: Query; body?: unknown; contentType?: string; accept?: string } = {}): Promise<T> {
    const context = this.configuration.baseServer.makeRequestContext(path, HttpMethod[method]);
    context.setHeaderParam('Accept', options.accept ?? 'application/json');
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) context.setQueryParam(name, String(value));
    }
    if (options.body !== undefined) {
      context.setHeaderParam('Content-Type', options.contentType ?? 'application/json');
      context.setBody(JSON.stringify(options.body));
    }
    return this.requestPromise(context) as Promise<T>;
  }
}

function statusMessage(body: unknown): string | undefined {
  if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') return (body as { message: string }).message;
  return undefined;
}
