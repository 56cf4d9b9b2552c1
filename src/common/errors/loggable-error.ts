/**
 * What of an unexpected error goes to the log: its type, message, code and stack, and the SQL of
 * a failed query without its parameters, which may carry secrets, ciphertexts or hashes.
 */
export function loggableError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { type: typeof error, message: String(error) };
  const { code, query } = error as { code?: unknown; query?: unknown };
  return {
    type: error.name,
    message: error.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(typeof query === 'string' ? { query: query.slice(0, 500) } : {}),
    stack: error.stack,
  };
}
