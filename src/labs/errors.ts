// Errors shared by the check evaluator and the Kubernetes client. Kept free of
// @kubernetes/client-node (which takes seconds to load) so that reading and validating labs stays
// fast: client-node's ApiException is recognised by its shape.

interface ApiFailure {
  code: number;
  body?: unknown;
  message: string;
}

function isApiFailure(error: unknown): error is ApiFailure {
  return error instanceof Error && typeof (error as { code?: unknown }).code === 'number' && 'body' in error;
}

function statusMessage(body: unknown): string | undefined {
  if (body && typeof body === 'object' && typeof (body as { message?: unknown }).message === 'string') return (body as { message: string }).message;
  return undefined;
}

/** The HTTP status of a failed API request, or undefined when it never got an answer. */
export function statusCode(error: unknown): number | undefined {
  return isApiFailure(error) ? error.code : undefined;
}

/** The API server's own message (from its Status object) or the error's. */
export function errorMessage(error: unknown): string {
  if (isApiFailure(error)) return statusMessage(error.body) ?? error.message;
  return error instanceof Error ? error.message : String(error);
}

export class UnknownResourceError extends Error {
  constructor(name: string) {
    super(`the cluster serves no resource called "${name}" (kubectl api-resources lists them)`);
    this.name = 'UnknownResourceError';
  }
}
