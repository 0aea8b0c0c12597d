// client-node's KubernetesObjectApi, answering with the JSON the API server sent instead of
// client-node's model classes: checks must see an object as kubectl does (every field, timestamps
// as text), and setup manifests must reach the server as written so it can reject a misspelt field.
import { ApiException, HttpMethod, KubernetesObjectApi, type KubeConfig, type ResponseContext } from '@kubernetes/client-node';

export type Query = Record<string, string | number | boolean | undefined>;

export class RawObjectApi extends KubernetesObjectApi {
  static forConfig(kubeConfig: KubeConfig): RawObjectApi {
    return kubeConfig.makeApiClient(RawObjectApi);
  }

  protected override async processResponse<T>(response: ResponseContext): Promise<T> {
    const text = await response.body.text();
    if (response.httpStatusCode >= 200 && response.httpStatusCode <= 299) return (text === '' ? {} : JSON.parse(text)) as T;
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not a Status object (a proxy in between, say): keep the text.
    }
    throw new ApiException(response.httpStatusCode, statusMessage(body) ?? `HTTP ${response.httpStatusCode}`, body, response.headers);
  }

  /** One request through client-node's pipeline (authentication, TLS, middleware). */
  async request<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, options: { query?: Query; body?: unknown; contentType?: string } = {}): Promise<T> {
    const context = this.configuration.baseServer.makeRequestContext(path, HttpMethod[method]);
    context.setHeaderParam('Accept', 'application/json');
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

/** The HTTP status of a failed request, or undefined when it never got an answer. */
export function statusCode(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

/** The API server's own message (from its Status object) or the error's. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiException) return statusMessage(error.body) ?? error.message;
  return error instanceof Error ? error.message : String(error);
}
