import 'reflect-metadata';
import { INestApplicationContext, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { AppModule } from '../app.module';
import { AuditRequestContext, SYSTEM } from '../audit/audit-context';
import { AdminBootstrap } from '../auth/bootstrap/admin-bootstrap';
import { ROLES, Role } from '../common/auth/access-vocabulary';
import { UsersService } from '../auth/users/users.service';
import { ConfigError } from '../config/config-error';
import { KeyringService } from '../crypto/keyring.service';
import { KeyRotationService } from '../keys/key-rotation.service';

const USAGE = `Usage: npm run cli -- <command> [options]

  user:create --email <email> --role <admin|operator|auditor|viewer> [--password <password>]
      Creates a user. Without --password a strong one is generated and printed once; the user
      must change it at first login. Uses the same configuration as the server.

  keys:rotate [--to <key id>] [--status]
      Makes a new master key active and re-wraps every data key under it, printing progress.
      Configure the old and the new key first (CUSTOS_MASTER_KEYS=k1:<key>,k2:<key> or
      CUSTOS_MASTER_KEYS_DIR), on every instance. Without --to, the one configured key the
      keyring does not know yet. Run it again to resume an interrupted rotation; --status only
      prints what each key still protects.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'user:create') return createUser(rest);
  if (command === 'keys:rotate') return rotateKeys(rest);
  process.stdout.write(`${USAGE}\n`);
  return command ? 2 : 0;
}

/** The app without HTTP, unsealed; null (after saying why) when sealed. */
async function openContext(): Promise<INestApplicationContext | null> {
  Logger.overrideLogger(['error', 'warn']);
  AdminBootstrap.skip = true;
  KeyRotationService.resumeOnStart = false;
  const app = await NestFactory.createApplicationContext(AppModule, {
    abortOnError: false,
    bufferLogs: false,
  });
  const status = await app.get(KeyringService).ensureOpen();
  if (!status.sealed) return app;
  process.stderr.write(`Custos is sealed: ${status.reason}\n`);
  await app.close();
  return null;
}

function cliContext(): AuditRequestContext {
  const context = new AuditRequestContext('cli', null, 'custos-cli');
  context.actor = SYSTEM;
  return context;
}

async function rotateKeys(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { to: { type: 'string' }, status: { type: 'boolean' } },
    strict: true,
  });
  const app = await openContext();
  if (!app) return 1;
  try {
    const rotation = app.get(KeyRotationService);
    if (!values.status) {
      const before = await rotation.status();
      const fresh = before.keys.some((k) => k.status === 'not-enrolled' && k.configured);
      // No new key and no --to: resume re-wrapping an interrupted rotation.
      if ((values.to ?? (fresh ? undefined : before.activeKeyId)) !== before.activeKeyId) {
        const { from, to } = await rotation.activate(values.to, cliContext());
        process.stdout.write(`Master key "${to}" is active (was "${from}")\n`);
      }
      await rotation.rewrapAll((moved, remaining) =>
        process.stdout.write(`Re-wrapped ${moved}, ${remaining} left\n`),
      );
      if (rotation.heldElsewhere()) {
        process.stdout.write(
          'Another instance is re-wrapping now (lease "kek-rewrap"); follow it with keys:rotate --status\n',
        );
      }
    }
    const status = await rotation.status();
    for (const key of status.keys) {
      process.stdout.write(
        `${key.id} ${key.status}${key.configured ? '' : ' (not configured)'}: ${JSON.stringify(key.references)}. ${key.note}\n`,
      );
    }
    return status.remaining === 0 ? 0 : 1;
  } finally {
    await app.close();
  }
}

async function createUser(rest: string[]): Promise<number> {
  const { values } = parseArgs({
    args: rest,
    options: { email: { type: 'string' }, role: { type: 'string' }, password: { type: 'string' } },
    strict: true,
  });
  if (!values.email || !values.role || !(ROLES as readonly string[]).includes(values.role)) {
    process.stderr.write(`--email and --role (${ROLES.join(', ')}) are required\n\n${USAGE}\n`);
    return 2;
  }
  const app = await openContext();
  if (!app) return 1;
  try {
    const generated = !values.password;
    const password = values.password ?? `${randomBytes(18).toString('base64url')}`;
    const context = cliContext();
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
