import { Injectable } from '@nestjs/common';
import { isIPv6 } from 'node:net';
import { EntityManager } from 'typeorm';
import { RequestValidationError } from '../../common/validation/request-validation.error';
import { CredentialAccess } from '../../credentials/credential-access';
import {
  CapabilityRequiredError,
  CredentialNotFoundError,
} from '../../credentials/credential.errors';
import { Credential } from '../../credentials/entities/credential.entity';
import { TransactionRunner } from '../../database/transaction-runner';
import { OutboundGuard } from '../../outbound/outbound-guard';
import { OutboundRefusedError, OutboundRequestError } from '../../outbound/outbound.errors';
import { generateSecret } from '../generator/generate-secret';
import { DEFAULT_GENERATOR } from '../generator/generator-defaults';
import { isBeingRetired, recordAccounts } from '../sweeper/version-retirements';
import { AdminLoginPurpose, AdminLoginReader } from './mariadb/admin-login-reader';
import { Account, accountLabel, isAccountName } from './mariadb/mariadb-account';
import { MariadbTargetError } from './mariadb/mariadb-errors';
import { planOf } from './mariadb/mariadb-plan';
import { MariadbSettings } from './mariadb/mariadb-settings';
import { loginAccepted, MariadbAdminSession, TargetEndpoint } from './mariadb/mariadb-target';
import {
  PermanentRotationError,
  PolicyReview,
  PolicyReviewTarget,
  RetireContext,
  RotationContext,
  Rotator,
  RotatorDescription,
  SecretValue,
} from './rotator';

const SINGLE_USER_WARNING =
  'single-user: MariaDB keeps one password per user, so the old password stops working as soon as the new one is applied; gracePeriod is PT0S whatever was asked (use alternating-users for a grace)';

/**
 * Rotates the password of a MariaDB (or MySQL-compatible) user on its server, logged in as an
 * admin login stored in another credential. MariaDB has no dual passwords, so by default two
 * users take turns (`alternating-users`, as AWS Secrets Manager and Infisical do): a rotation sets
 * a fresh password on the user not in service, proves it, and switches the credential's username
 * to it; the other keeps working through the grace and is locked once its version is revoked.
 * `single-user` changes the one user's password in place, with no grace.
 */
@Injectable()
export class MariadbRotator implements Rotator<MariadbSettings> {
  readonly kind = 'mariadb';
  readonly settingsClass = MariadbSettings;

  constructor(
    private readonly transactions: TransactionRunner,
    private readonly adminLogins: AdminLoginReader,
    private readonly access: CredentialAccess,
    private readonly guard: OutboundGuard,
  ) {}

  describe(): RotatorDescription {
    return {
      kind: this.kind,
      summary:
        'A new password for a MariaDB user on its server, set through an admin login stored in another credential; two users take turns so the old one works through the grace',
      types: ['password'],
      usesGenerator: true,
      settings: {
        strategy:
          'alternating-users (default): users take turns, the old one works until its grace ends and is then retired; single-user: ALTER USER on the credential’s username, no grace (forced to PT0S)',
        adminCredentialId:
          'id of another password credential you may reveal: its username and password log in with CREATE USER on *.* and SELECT on mysql.user',
        host: 'host name or IP address of the MariaDB server',
        port: 'its port (default 3306)',
        users:
          '[userA, userB], alternating-users only: existing users with the same grants; the credential’s username must be one of them',
        accountHost: 'host part of the users’ accounts (default %)',
        retire:
          'lock (default: ACCOUNT LOCK) or scramble (a random password no one knows): what happens to a user whose version was revoked',
        tls: 'true, or {rejectUnauthorized?, ca?}: connect with TLS (default: without)',
      },
    };
  }

  create(context: RotationContext<MariadbSettings>): Promise<SecretValue> {
    return Promise.resolve({
      password: generateSecret(context.generator ?? DEFAULT_GENERATOR.password),
    });
  }

  /**
   * Checks the admin login, its privilege and the users before changing anything; then sets the
   * pending password on the target user, unless it already has it (a repeat after a crash).
   */
  async apply(context: RotationContext<MariadbSettings>): Promise<void> {
    const plan = planOf(context.settings, context.credential);
    const endpoint = await this.endpointOf(context.settings);
    const password = await pendingPassword(context);
    if (plan.previous) await this.refuseWhileRetiring(context.credential.id, plan.target);
    const admin = await this.openAdmin(endpoint, context.settings, {
      rotatedCredentialId: context.credential.id,
      runId: context.run.id,
    });
    try {
      await admin.checkPrivileges();
      await admin.checkAccounts(plan.previous ? [plan.target, plan.previous] : [plan.target]);
      if (await loginAccepted(endpoint, { user: plan.target.name, password })) return;
      // A user rotated back into service was locked when its last version was revoked.
      await admin.setPassword(plan.target, password, plan.previous !== undefined);
    } finally {
      await admin.close();
    }
  }

  /** Logs in as the target user with the pending password and runs SELECT 1. */
  async test(context: RotationContext<MariadbSettings>): Promise<void> {
    const plan = planOf(context.settings, context.credential);
    const endpoint = await this.endpointOf(context.settings);
    const password = await pendingPassword(context);
    if (!(await loginAccepted(endpoint, { user: plan.target.name, password }))) {
      throw new MariadbTargetError(`${accountLabel(plan.target)} does not accept the new password`);
    }
  }

  /**
   * In the switch transaction: the credential's username follows the user now in service, and
   * the versions record whose they are, so the old user can be retired when its version is.
   */
  async finish(context: RotationContext<MariadbSettings>, manager: EntityManager): Promise<void> {
    const plan = planOf(context.settings, context.credential);
    let notes: string;
    if (plan.previous) {
      const version = context.run.pendingVersion;
      if (version === null) throw new Error('the run has no pending version');
      await manager.update(
        Credential,
        { id: context.credential.id },
        { username: plan.target.name },
      );
      await recordAccounts(
        manager,
        context.credential.id,
        { version, account: plan.target.name },
        plan.previous.name,
      );
      const retired = context.settings.retire === 'lock' ? 'locked' : 'given a random password';
      notes = `${plan.target.name} is in service now; ${plan.previous.name} keeps its password until the old version's grace ends, then it is ${retired}`;
    } else {
      notes = `single-user: the old password of ${plan.target.name} stopped working when the new one was applied (MariaDB keeps one password per user), so there was no grace`;
    }
    await manager.query('UPDATE rotation_runs SET notes = ? WHERE id = ?', [notes, context.run.id]);
  }

  /** Locks (or scrambles) the user a revoked version belonged to; a user gone needs nothing. */
  async retire(context: RetireContext<MariadbSettings>): Promise<void> {
    if (!isAccountName(context.account)) {
      throw new PermanentRotationError('the recorded account is not a valid MariaDB user name');
    }
    const account = { name: context.account, host: context.settings.accountHost };
    const endpoint = await this.endpointOf(context.settings);
    const admin = await this.openAdmin(endpoint, context.settings, {
      rotatedCredentialId: context.credential.id,
      retiredVersion: context.version,
    });
    try {
      if ((await admin.missingAccounts([account])).length > 0) return;
      if (context.settings.retire === 'scramble') await admin.scramble(account);
      else await admin.lock(account);
    } finally {
      await admin.close();
    }
  }

  /**
   * Checks a policy cannot pass by its shape alone: the admin credential is another password
   * credential with a username that the writer may reveal (the rotator would send its password to
   * the host the policy names), and the credential's username fits the strategy. single-user
   * forces the grace to PT0S.
   */
  async reviewPolicy(
    settings: MariadbSettings,
    { credential, principal }: PolicyReviewTarget,
    manager: EntityManager,
  ): Promise<PolicyReview> {
    this.checkHost(settings.host);
    if (credential && settings.adminCredentialId === credential.id) {
      invalid('rotator.adminCredentialId', 'must name another credential than the one rotated');
    }
    let admin: Credential;
    try {
      admin = await this.access.byId(manager, principal, settings.adminCredentialId, 'reveal');
    } catch (error) {
      if (!(error instanceof CredentialNotFoundError || error instanceof CapabilityRequiredError)) {
        throw error;
      }
      invalid('rotator.adminCredentialId', 'must name a password credential you may reveal');
    }
    if (admin.type !== 'password' || !admin.username) {
      invalid(
        'rotator.adminCredentialId',
        'must name a password credential with a username (they are the admin login)',
      );
    }
    if (credential) {
      try {
        planOf(settings, credential);
      } catch (error) {
        if (!(error instanceof PermanentRotationError)) throw error;
        invalid(
          settings.strategy === 'single-user' ? 'rotator.strategy' : 'rotator.users',
          error.message,
        );
      }
    }
    if (settings.strategy === 'single-user') {
      return { warnings: [SINGLE_USER_WARNING], gracePeriod: 'PT0S' };
    }
    return { warnings: [] };
  }

  /**
   * A retirement of the target user that another instance is carrying out right now could land
   * its lock after the new password: the attempt waits for it (it is retried after a backoff).
   */
  private async refuseWhileRetiring(credentialId: string, target: Account): Promise<void> {
    const busy = await this.transactions.read((manager) =>
      isBeingRetired(manager, credentialId, target.name),
    );
    if (busy) {
      throw new MariadbTargetError(
        `${accountLabel(target)} is being retired right now; the next attempt goes on once that is done`,
      );
    }
  }

  /**
   * What the outbound guard says of the host without asking DNS (DESIGN.md invariant 8): the
   * allowlist, an address given literally, a loopback name. Names are resolved and checked at
   * every step, where the connection is made.
   */
  private checkHost(host: string): void {
    try {
      this.guard.checkUrl(`https://${isIPv6(host) ? `[${host}]` : host}/`);
    } catch (error) {
      if (error instanceof OutboundRefusedError) invalid('rotator.host', error.message);
      throw error;
    }
  }

  /**
   * The policy's host resolved and checked by the outbound guard: every connection of the step
   * dials the address checked here. A refused host fails the run for good, before anything is
   * read or changed; a name that does not resolve may on the next attempt.
   */
  private async endpointOf(settings: MariadbSettings): Promise<TargetEndpoint> {
    let addresses: string[];
    try {
      addresses = await this.guard.resolveChecked(settings.host);
    } catch (error) {
      if (error instanceof OutboundRefusedError) throw new PermanentRotationError(error.message);
      if (error instanceof OutboundRequestError) throw new MariadbTargetError(error.message);
      throw error;
    }
    return { host: settings.host, address: addresses[0], port: settings.port, tls: settings.tls };
  }

  private async openAdmin(
    endpoint: TargetEndpoint,
    settings: MariadbSettings,
    purpose: AdminLoginPurpose,
  ): Promise<MariadbAdminSession> {
    const login = await this.adminLogins.read(settings.adminCredentialId, purpose);
    return MariadbAdminSession.open(endpoint, login);
  }
}

async function pendingPassword(context: RotationContext<MariadbSettings>): Promise<string> {
  const { password } = await context.pendingValue();
  if (typeof password !== 'string' || password.length === 0) {
    throw new PermanentRotationError('the pending version holds no password');
  }
  return password;
}

function invalid(field: string, message: string): never {
  throw new RequestValidationError([{ field, errors: [message] }]);
}
