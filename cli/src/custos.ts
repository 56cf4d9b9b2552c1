#!/usr/bin/env node
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Api } from './api';
import { get, ls, put, rotate } from './commands/credentials';
import { login, logout } from './commands/login';
import { run, watch } from './commands/run';
import { CliError } from './errors';

/** The package's own version (dist/custos.js sits beside package.json's folder, packed or not). */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return manifest.version;
}

/**
 * `custos`: the command line client of a Custos server's REST API. Errors are one line,
 * `custos: <message>`, with exit code 1 (2 for a usage error); no secret is printed except
 * the one `custos get` is asked for.
 */
function program(): Command {
  const root = new Command('custos')
    .description('Command line client of a Custos vault (REST API /api/v1)')
    .version(packageVersion())
    .enablePositionalOptions()
    .option(
      '--addr <url>',
      'server address (default: CUSTOS_ADDR, the login, http://127.0.0.1:3000)',
    )
    .showHelpAfterError(false)
    .showSuggestionAfterError(false)
    .exitOverride()
    .configureOutput({
      outputError: (text, write) => write(`custos: ${text.replace(/^error: /, '')}`),
    });
  const api = () => Api.fromEnvironment(root.opts<{ addr?: string }>().addr);

  root
    .command('login')
    .description('log in with e-mail and password; keeps the session in the config directory')
    .option('--email <email>', 'account e-mail (asked for when missing)')
    .option('--password-stdin', 'read the password from standard input instead of the terminal')
    .option('--totp <code>', 'TOTP code, for an account with a second factor')
    .action(async (options: { email?: string; passwordStdin?: boolean; totp?: string }) => {
      await login(root.opts<{ addr?: string }>().addr, options);
    });

  root
    .command('logout')
    .description('end the stored session and remove it')
    .action(async () => logout());

  root
    .command('get')
    .description('print a secret (JSON by default)')
    .argument('<path>', 'credential path, e.g. acme/prod/db-password')
    .option('--field <field>', 'print only this field, raw')
    .option('--version <n>', 'a still valid older version', positiveInt)
    .addOption(
      new Option('--format <format>', 'output').choices(['json', 'env', 'raw']).default('json'),
    )
    .option('--reason <text>', 'reason recorded in the audit log')
    .action(
      async (
        path: string,
        options: { field?: string; version?: number; format: 'json'; reason?: string },
      ) => get(await api(), path, options),
    );

  root
    .command('put')
    .description('store a secret: creates the credential, or adds a version of its secret')
    .argument('<path>', 'credential path')
    .argument(
      '<fields...>',
      'field=@file, field=- (standard input) or field=value (see --allow-argv-secrets)',
    )
    .option('--type <type>', 'credential type when creating (password, api_key, oauth, …)')
    .option('--username <name>', 'username, when creating')
    .option('--description <text>', 'description, when creating')
    .option(
      '--allow-argv-secrets',
      'accept field=value from the command line (ps and shell history see it)',
    )
    .action(
      async (
        path: string,
        fields: string[],
        options: {
          type?: string;
          username?: string;
          description?: string;
          allowArgvSecrets?: boolean;
        },
      ) => put(await api(), path, fields, options),
    );

  root
    .command('ls')
    .description('list the credentials you may read: path, type, version (never values)')
    .argument('[prefix]', 'path prefix, e.g. acme/prod/')
    .option('--json', 'as JSON')
    .action(async (prefix: string | undefined, options: { json?: boolean }) =>
      ls(await api(), prefix, options.json === true),
    );

  root
    .command('rotate')
    .description('rotate a credential now')
    .argument('<path>', 'credential path')
    .option('--emergency', 'revoke the old value at the switch (no grace period)')
    .option('--reason <text>', 'reason recorded in the audit log')
    .option('--wait', 'wait for the run to finish')
    .option('--timeout <seconds>', 'how long --wait waits', positiveInt, 120)
    .action(
      async (
        path: string,
        options: { emergency?: boolean; reason?: string; wait?: boolean; timeout: number },
      ) => rotate(await api(), path, options),
    );

  const withSecrets = (command: Command) =>
    command
      .option('--path <prefix>', 'credentials under this path (repeatable)', collect, [])
      .option('--env <NAME=path[#field]>', 'name a value explicitly (repeatable)', collect, [])
      .option('--prefix <PREFIX>', 'put PREFIX before every default variable name', '')
      .option('-v, --verbose', 'say on stderr what was revealed and skipped (names, never values)')
      .argument('<command>', 'the command to run')
      .argument('[args...]', 'its arguments (after --)')
      .passThroughOptions();

  withSecrets(
    root
      .command('run')
      .description('run a command with the secrets under the prefixes as environment variables'),
  ).action(async (command: string, args: string[], options: Parameters<typeof run>[3]) => {
    process.exitCode = await run(await api(), command, args, options);
  });

  withSecrets(
    root
      .command('watch')
      .description('as run, and restart the command when one of its secrets is rotated'),
  )
    .option('--signal <SIG>', 'send this signal (HUP, USR1, …) instead of restarting')
    .option(
      '--kill-timeout <seconds>',
      'SIGKILL a child still running this long after SIGTERM',
      positiveInt,
      10,
    )
    .action(async (command: string, args: string[], options: Parameters<typeof watch>[3]) => {
      process.exitCode = await watch(await api(), command, args, options);
    });

  return root;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function positiveInt(value: string): number {
  if (!/^[1-9][0-9]*$/.test(value)) throw new InvalidArgumentError('not a positive integer');
  return Number(value);
}

async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version end here too, with code 0; commander has printed its message.
      return error.exitCode === 0 ? 0 : 2;
    }
    if (error instanceof CliError) {
      process.stderr.write(`custos: ${error.message}\n`);
      return error.exitCode;
    }
    process.stderr.write(`custos: ${(error as Error).message ?? String(error)}\n`);
    return 1;
  }
}

void main(process.argv).then((code) => process.exit(code));
