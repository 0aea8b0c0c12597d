// Patch failures as the API server reports them. Upstream's patch handler turns library errors
// into a few Status shapes; the message a client sees is the Status message, while the library's
// own words (which a log or a test may want) travel in `detail`.
import { StatusError, type StatusCause } from '../../types.ts';

export type PatchFailureCode = 400 | 409 | 413 | 422;

const reasons: Record<PatchFailureCode, string> = {
  400: 'BadRequest',
  409: 'Conflict',
  413: 'RequestEntityTooLarge',
  422: 'Invalid',
};

export class PatchError extends StatusError {
  /** What the underlying patch library said; for 422 "generic" failures it is not in the Status message. */
  readonly detail: string;

  constructor(code: PatchFailureCode, message: string, options: { detail?: string; causes?: StatusCause[] } = {}) {
    super({ code, reason: reasons[code], message, ...(options.causes ? { details: { causes: options.causes } } : {}) });
    this.name = 'PatchError';
    this.detail = options.detail ?? message;
  }

  override get code(): PatchFailureCode {
    return this.status.code as PatchFailureCode;
  }
}

/** A 400 whose Status message is the library's message, as errors.NewBadRequest(err.Error()). */
export function badPatch(message: string): PatchError {
  return new PatchError(400, message);
}

/**
 * A patch that is well-formed but cannot be applied. Upstream answers these with
 * NewGenericServerResponse(422, …), which keeps only a fixed message and drops the cause.
 */
export function unprocessablePatch(detail: string): PatchError {
  return new PatchError(422, 'the server rejected our request due to an error in our request', { detail });
}

/**
 * Runs a patch step, turning a stack overflow on absurdly deep documents into a 400 (upstream's
 * decoder refuses such documents) rather than letting it surface as a server error.
 */
export function boundedDepth<T>(run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof RangeError) throw badPatch('exceeded max depth');
    throw error;
  }
}
