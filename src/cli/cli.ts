import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { AppModule } from '../app.module';
import { AuditRequestContext, SYSTEM } from '../audit/audit-context';
import { AdminBootstrap } from '../auth/bootstrap/admin-bootstrap';
import { ROLES, Role } from '../auth/users/user.entity';
import { UsersService } from '../auth/users/users.service';
import { ConfigError } from '../config/config-error';
import { KeyringService } from '../crypto/keyring.service';

const USAGE = `Usage: npm run cli -- <command> [options]

  user:create --email <email> --role <admin|operator|auditor|viewer> [--password <password>]
      Creates a user. Without --password a strong one is generated and printed once; the user
      must change it at first login. Uses the same configuration as the server.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'user:create') {
    process.stdout.write(`${USAGE}\n`);
    return command ? 2 : 0;
  }
  const { values } = parseArgs({
    args: rest,
    options: { email: { type: 'string' }, role: { type: 'string' }, password: { type: 'string' } },
    strict: true,
  });
  if (!values.email || !values.role || !(ROLES as readonly string[]).includes(values.role)) {
    process.stderr.write(`--email and --role (${ROLES.join(', ')}) are required\n\n${USAGE}\n`);
    return 2;
  }
  Logger.overrideLogger(['error', 'warn']);
  AdminBootstrap.skip = true;
  const app = await NestFactory.createApplicationContext(AppModule, {
    abortOnError: false,
    bufferLogs: false,
  });
  try {
    const status = await app.get(KeyringService).ensureOpen();
    if (status.sealed) {
      process.stderr.write(`Custos is sealed: ${status.reason}\n`);
      return 1;
    }
    const generated = !values.password;
    const password = values.password ?? `${randomBytes(18).toString('base64url')}`;
    const context = new AuditRequestContext('cli', null, 'custos-cli');
    context.actor = SYSTEM;
    const user = await app
      .get(UsersService)
      .create(
        { email: values.email, password, role: values.role as Role, mustChangePassword: generated },
        context,
      );
    process.stdout.write(`Created ${user.role} ${user.email} (${user.id})\n`);
    if (generated)
      process.stdout.write(`Password (shown once, must be changed at first login): ${password}\n`);
    return 0;
  } finally {
    await app.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof ConfigError ? 2 : 1);
  },
);
