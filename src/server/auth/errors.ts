/** A sign-in that cannot go on, with a message for the learner that says what to do. */
export class SignInError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SignInError';
  }
}

/**
 * Recognised by name: the services come from the server's module graph, the pages from the site
 * bundle, so `instanceof` against the bundle's copy of the class would never match.
 */
export function isSignInError(error: unknown): error is SignInError {
  return error instanceof Error && error.name === 'SignInError';
}
