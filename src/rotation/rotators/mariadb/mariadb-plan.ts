import type { Credential } from '../../../credentials/entities/credential.entity';
import { PermanentRotationError } from '../rotator';
import { Account, isAccountName, nextUser } from './mariadb-account';
import type { MariadbSettings } from './mariadb-settings';

/** What a run does on the target, from its settings and the credential as it is now. */
export interface Plan {
  /** The user that gets the new password. */
  target: Account;
  /** The user in service until the switch (alternating-users only; it keeps its password). */
  previous?: Account;
}

/**
 * The users a run touches. Fails for good when the credential's username does not fit the
 * settings (edited since the policy was written): nothing is changed then.
 */
export function planOf(settings: MariadbSettings, credential: Readonly<Credential>): Plan {
  const host = settings.accountHost;
  const current = credential.username;
  if (settings.strategy === 'single-user') {
    if (!isAccountName(current)) {
      throw new PermanentRotationError(
        'the credential’s username must be a MariaDB user name (letters, digits, _ . $ -, at most 80)',
      );
    }
    return { target: { name: current, host } };
  }
  const users = settings.users!;
  const next = nextUser(users, current);
  if (!next) {
    throw new PermanentRotationError(
      `the credential’s username (${current ?? 'none'}) must be one of the users ${users.join(', ')}: the one in service now`,
    );
  }
  return { target: { name: next, host }, previous: { name: current!, host } };
}
