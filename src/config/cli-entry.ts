import { ConfigError } from './config-error';

/** Input the user must fix: said plainly, exit 2. */
export class UsageError extends Error {}

/**
 * Runs a command-line tool's `main` and exits with its code. A configuration or usage error is
 * one plain line and exit 2 (the tool could not run); anything else is its stack, exit 2 too.
 */
export function runCliMain(main: (argv: string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      const message =
        error instanceof ConfigError || error instanceof UsageError
          ? error.message
          : String((error as Error).stack ?? error);
      process.stderr.write(`${message}\n`);
      process.exit(2);
    },
  );
}
