import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { AuditRequestContext, SYSTEM } from '../../audit/audit-context';
import { appConfig } from '../../config/app.config';
import { authConfig } from '../../config/auth.config';
import { KeyringService } from '../../crypto/keyring.service';
import { User } from '../users/user.entity';
import { UsersService } from '../users/users.service';

export const INITIAL_PASSWORD_FILE = 'initial-admin-password';

/**
 * A fresh instance has no users: create one admin (CUSTOS_ADMIN_EMAIL) with a random password,
 * written to <data dir>/initial-admin-password (mode 0600) and never logged; it must be changed
 * at first login.
 */
@Injectable()
export class AdminBootstrap implements OnApplicationBootstrap {
  /** Set by the CLI: a scripted set-up creates its own first user, no random admin. */
  static skip = false;

  private readonly logger = new Logger(AdminBootstrap.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly users: UsersService,
    private readonly keyring: KeyringService,
    @Inject(appConfig.KEY) private readonly app: ConfigType<typeof appConfig>,
    @Inject(authConfig.KEY) private readonly auth: ConfigType<typeof authConfig>,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    // Sealed: nothing may be written, the admin is created at the first unsealed start.
    if (AdminBootstrap.skip || (await this.keyring.ensureOpen()).sealed) return;
    if ((await this.dataSource.getRepository(User).count()) > 0) return;
    const password = randomBytes(18).toString('base64url');
    try {
      await this.users.create(
        { email: this.auth.adminEmail, password, role: 'admin', mustChangePassword: true },
        systemContext(),
        'auth.bootstrap.admin',
      );
    } catch (error) {
      // Another instance starting at the same moment created it first.
      this.logger.warn(`Admin bootstrap skipped: ${(error as Error).message}`);
      return;
    }
    mkdirSync(this.app.dataDir, { recursive: true, mode: 0o700 });
    const file = join(this.app.dataDir, INITIAL_PASSWORD_FILE);
    writeFileSync(file, `${password}\n`, { mode: 0o600 });
    this.logger.warn(
      `Created the first admin ${this.auth.adminEmail}; its password is in ${file} (mode 0600). ` +
        'Log in, change it, then delete the file.',
    );
  }
}

function systemContext(): AuditRequestContext {
  const context = new AuditRequestContext('bootstrap', null, null);
  context.actor = SYSTEM;
  return context;
}
