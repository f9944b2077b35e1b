/**
 * Typed errors that carry their exit code. Core code throws these; only the CLI
 * entry point (src/cli/main.ts) turns them into an exit code and one line on stderr.
 * Anything else that escapes is a bug and is reported as one.
 */

/** Bad usage or input (unknown event, bad flag, unreadable file, bad URL): exit 2. */
export class UserError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** The thing checked failed (non-2xx answer, invalid capture, endpoint not conformant): exit 1. */
export class CheckFailedError extends Error {
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'CheckFailedError';
  }
}

/** The user interrupted (Ctrl-C): exit 130, the shell convention for SIGINT. */
export class InterruptedError extends Error {
  readonly exitCode = 130;
  constructor(message = 'Interrupted') {
    super(message);
    this.name = 'InterruptedError';
  }
}

export function isUserFacingError(error: unknown): error is UserError | CheckFailedError | InterruptedError {
  return error instanceof UserError || error instanceof CheckFailedError || error instanceof InterruptedError;
}

/** The message of an unknown thrown value, for one-line reports. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
