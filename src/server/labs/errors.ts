// Why a lab request cannot be done, with the HTTP status the API answers and a sentence for the
// learner. Recognised by name in the API routes (the site bundle has its own copy of this class).

export type LabRequestStatus = 400 | 401 | 403 | 404 | 409 | 503;

export class LabRequestError extends Error {
  readonly status: LabRequestStatus;

  constructor(status: LabRequestStatus, message: string) {
    super(message);
    this.name = 'LabRequestError';
    this.status = status;
  }
}

export function isLabRequestError(error: unknown): error is Error & { status: LabRequestStatus } {
  return error instanceof Error && error.name === 'LabRequestError' && 'status' in error && typeof error.status === 'number';
}
