// What the workshop service keeps beside the contracts (src/contracts/workshops.ts): a learner's
// seat, and the error that carries an HTTP status.

export interface Seat {
  learnerId: string;
  name: string;
  joinedAt: string;
  extraMinutes: number;
}

export class WorkshopError extends Error {
  readonly status: 400 | 403 | 404 | 409;

  constructor(status: 400 | 403 | 404 | 409, message: string) {
    super(message);
    this.name = 'WorkshopError';
    this.status = status;
  }
}
