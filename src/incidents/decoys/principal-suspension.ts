import { Injectable, Logger } from '@nestjs/common';
import { ServiceAccountsService } from '../../auth/service-accounts/service-accounts.service';
import { UsersService } from '../../auth/users/users.service';
import type { Principal } from '../../common/auth/principal';

/**
 * Suspends a principal caught by a detector: a user is disabled (its tokens and sessions end at
 * once), a service account is disabled (its API keys stop working). Failing to suspend (the last
 * active admin cannot be disabled) is logged: the incident already names the principal.
 */
@Injectable()
export class PrincipalSuspension {
  private readonly logger = new Logger(PrincipalSuspension.name);

  constructor(
    private readonly users: UsersService,
    private readonly serviceAccounts: ServiceAccountsService,
  ) {}

  async suspend(principal: Principal): Promise<boolean> {
    try {
      if (principal.type === 'user') await this.users.update(principal.id, { status: 'disabled' });
      else await this.serviceAccounts.update(principal.id, { status: 'disabled' });
      return true;
    } catch (error) {
      this.logger.error(
        `Could not suspend ${principal.type} ${principal.id}: ${(error as Error).message}`,
      );
      return false;
    }
  }
}
