// The labs' way into a Kubernetes API (the embedded cluster or a real one): everything is
// @kubernetes/client-node against a KubeConfig. Reads by kubectl resource name, object
// creation from manifests, exec in a pod, logs, access reviews and watches.
import { Writable } from 'node:stream';
import { Exec, Watch, type KubeConfig, type V1Status } from '@kubernetes/client-node';
import { errorMessage, statusCode } from '../errors.ts';
import { RawObjectApi, type Query } from './api.ts';
import { Discovery, resourcePath, type ApiResource } from './discovery.ts';

export { errorMessage, statusCode, UnknownResourceError } from '../errors.ts';
export { findResource, type ApiResource } from './discovery.ts';

/** An object as the API server sends it. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name?: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    resourceVersion?: string;
    generation?: number;
    creationTimestamp?: string;
    deletionTimestamp?: string;
    ownerReferences?: Array<{ kind: string; name: string; uid: string; controller?: boolean }>;
    [key: string]: unknown;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export class ExecTimeoutError extends Error {
  constructor(command: string, seconds: number) {
    super(`${command} did not finish within ${seconds} s`);
    this.name = 'ExecTimeoutError';
  }
}

/** A watch saw nothing that satisfied it in time. */
export class WatchTimeoutError extends Error {
  constructor(path: string, timeoutMs: number) {
    super(`nothing at ${path} changed as awaited within ${Math.round(timeoutMs / 1000)} s`);
    this.name = 'WatchTimeoutError';
  }
}

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject;
}

function collector(): { stream: Writable; text(): string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      callback();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** Exit code of an exec from the final Status on the error channel (0 for Success). */
function exitCodeOf(status: V1Status): number | undefined {
  if (status.status === 'Success') return 0;
  const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
  if (cause?.message !== undefined && /^\d+$/.test(cause.message)) return Number(cause.message);
  return undefined;
}

export class KubeClient {
  readonly kubeConfig: KubeConfig;
  readonly api: RawObjectApi;
  readonly discovery: Discovery;

  constructor(kubeConfig: KubeConfig) {
    this.kubeConfig = kubeConfig;
    this.api = RawObjectApi.forConfig(kubeConfig);
    this.discovery = new Discovery(this.api);
  }

  resolve(resourceName: string): Promise<ApiResource> {
    return this.discovery.resolve(resourceName);
  }

  /** The object, or null when it does not exist. */
  async get(resource: ApiResource, namespace: string, name: string): Promise<KubeObject | null> {
    try {
      return await this.api.request<KubeObject>('GET', resourcePath(resource, namespace, name));
    } catch (error) {
      if (statusCode(error) === 404) return null;
      throw error;
    }
  }

  async list(resource: ApiResource, namespace: string | undefined, options: ListOptions = {}): Promise<KubeObject[]> {
    const query: Query = { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector };
    const list = await this.api.request<{ items?: KubeObject[] }>('GET', resourcePath(resource, namespace), { query });
    return list.items ?? [];
  }

  /** Creates an object from a manifest into `namespace` (namespaced kinds), as the server validates it strictly. */
  async create(object: KubeObject, namespace: string | undefined): Promise<KubeObject> {
    const resource = await this.discovery.forKind(object.apiVersion ?? 'v1', object.kind ?? '');
    const body = resource.namespaced && namespace ? { ...object, metadata: { ...object.metadata, namespace } } : object;
    return this.api.request<KubeObject>('POST', resourcePath(resource, resource.namespaced ? namespace : undefined), { body, query: { fieldValidation: 'Strict', fieldManager: 'formicary' } });
  }

  /** Runs `command` in a container and collects its output; throws when it cannot run at all. */
  async exec(namespace: string, pod: string, container: string, command: string[], options: { timeoutMs?: number } = {}): Promise<ExecResult> {
    const stdout = collector();
    const stderr = collector();
    const timeoutMs = options.timeoutMs ?? 60_000;
    return new Promise<ExecResult>((resolve, reject) => {
      let settled = false;
      let socket: { close(): void } | undefined;
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        outcome();
      };
      const timer = setTimeout(() => {
        finish(() => reject(new ExecTimeoutError(command.join(' '), Math.round(timeoutMs / 1000))));
        socket?.close();
      }, timeoutMs);
      let status: V1Status | undefined;
      new Exec(this.kubeConfig)
        .exec(namespace, pod, container, command, stdout.stream, stderr.stream, null, false, (received) => {
          status = received;
        })
        .then((ws) => {
          socket = ws;
          if (settled) ws.close();
          ws.on('close', () => {
            finish(() => {
              const exitCode = status ? exitCodeOf(status) : undefined;
              if (exitCode === undefined) {
                reject(new Error(`exec in pod ${namespace}/${pod} ended without an exit status${status?.message ? `: ${status.message}` : ''}`));
              } else {
                resolve({ exitCode, stdout: stdout.text(), stderr: stderr.text() });
              }
            });
          });
        }, (error: unknown) => finish(() => reject(new Error(`exec in pod ${namespace}/${pod}: ${errorMessage(error)}`))));
    });
  }

  /** A container's log (`kubectl logs`); `tailLines` keeps the read small. */
  async logs(namespace: string, pod: string, options: { container?: string; tailLines?: number; previous?: boolean } = {}): Promise<string> {
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log`;
    return this.api.request<string>('GET', path, { accept: 'text/plain, */*', query: { container: options.container, tailLines: options.tailLines, previous: options.previous || undefined } });
  }

  /** Whether a ServiceAccount may do something, by a SubjectAccessReview (nothing is changed). */
  async serviceAccountCan(
    account: { namespace: string; name: string },
    attributes: { verb: string; resource: string; group: string; subresource?: string; name?: string; namespace?: string },
  ): Promise<{ allowed: boolean; reason: string }> {
    const user = `system:serviceaccount:${account.namespace}:${account.name}`;
    const review = await this.api.request<{ status?: { allowed?: boolean; reason?: string; denied?: boolean } }>('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user,
          groups: ['system:serviceaccounts', `system:serviceaccounts:${account.namespace}`, 'system:authenticated'],
          resourceAttributes: {
            verb: attributes.verb,
            group: attributes.group,
            resource: attributes.resource,
            ...(attributes.subresource ? { subresource: attributes.subresource } : {}),
            ...(attributes.name ? { name: attributes.name } : {}),
            ...(attributes.namespace ? { namespace: attributes.namespace } : {}),
          },
        },
      },
    });
    return { allowed: review.status?.allowed === true, reason: review.status?.reason ?? '' };
  }

  /**
   * Watches objects (`kubectl get -w`); the callback sees every event until it returns true or
   * `timeoutMs` passes. Resolves with the object that satisfied it; rejects with WatchTimeoutError.
   */
  async waitFor(
    resource: ApiResource,
    namespace: string,
    options: ListOptions & { timeoutMs: number },
    satisfied: (event: WatchEvent) => boolean,
  ): Promise<KubeObject> {
    const path = resourcePath(resource, namespace);
    const watch = new Watch(this.kubeConfig);
    let controller: AbortController | undefined;
    return new Promise<KubeObject>((resolve, reject) => {
      let settled = false;
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        controller?.abort();
        outcome();
      };
      const timer = setTimeout(() => finish(() => reject(new WatchTimeoutError(path, options.timeoutMs))), options.timeoutMs);
      const start = () => {
        watch
          .watch(
            path,
            { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector, allowWatchBookmarks: true },
            (type, object) => {
              if (settled) return;
              const event = { type, object } as WatchEvent;
              if (type !== 'BOOKMARK' && type !== 'ERROR' && satisfied(event)) finish(() => resolve(event.object));
            },
            (error: unknown) => {
              // The server ends watches now and then; start again until the deadline.
              if (settled) return;
              if (error && statusCode(error) !== undefined && statusCode(error) !== 410) finish(() => reject(error));
              else setTimeout(start, 100);
            },
          )
          .then(
            (abort) => {
              controller = abort;
              if (settled) abort.abort();
            },
            (error: unknown) => finish(() => reject(error)),
          );
      };
      start();
    });
  }
}
