/**
 * An error the CLI reports as one line, `custos: <message>`, with this exit code. Messages
 * never hold a secret value: they name paths, fields and HTTP statuses only.
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** An answer of the server other than a success, with its status and message. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly serverMessage: string,
    readonly method: string,
    readonly route: string,
  ) {
    super(`${method} ${route}: ${status} ${serverMessage}`);
    this.name = 'ApiError';
  }
}
