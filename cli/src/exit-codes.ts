import { constants } from 'node:os';

/**
 * The exit code of `custos run` for its child's end: the child's own code, or 128 + the
 * signal's number when a signal ended it (as a shell reports it: SIGTERM → 143).
 */
export function exitCodeFor(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  if (signal !== null) {
    const number = (constants.signals as Record<string, number | undefined>)[signal];
    return 128 + (number ?? 0);
  }
  return 1;
}
