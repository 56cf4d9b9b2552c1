import { Injectable, Logger } from '@nestjs/common';
import { AuditRequestContext, SYSTEM } from '../../audit/audit-context';
import { ServiceAccountsService } from '../../auth/service-accounts/service-accounts.service';
import { UsersService } from '../../auth/users/users.service';
import { loggableError } from '../../common/errors/loggable-error';
import type { FindingPrincipal } from './detector-finding';

export type SuspensionOutcome = 'suspended' | 'already_suspended' | 'refused';

/**
 * Disables a principal a detector caught, through the same services an admin uses, so the change
 * cuts its tokens, is audited (as done by Custos) and keeps the last active admin.
 */
@Injectable()
export class PrincipalSuspender {
  private readonly logger = new Logger(PrincipalSuspender.name);

  constructor(
    private readonly users: UsersService,
    private readonly serviceAccounts: ServiceAccountsService,
  ) {}

  async suspend(principal: FindingPrincipal): Promise<SuspensionOutcome> {
    const context = new AuditRequestContext('incident-detector', null, null);
    context.actor = SYSTEM;
    try {
      if (principal.type === 'user') {
        if ((await this.users.get(principal.id)).status !== 'active') return 'already_suspended';
        await this.users.update(principal.id, { status: 'disabled' }, context);
      } else {
        const account = await this.serviceAccounts.get(principal.id);
        if (account.status !== 'active') return 'already_suspended';
        await this.serviceAccounts.update(principal.id, { status: 'disabled' }, context);
      }
      return 'suspended';
    } catch (error) {
      // The last active admin, or a principal deleted meanwhile: the incident says so instead.
      this.logger.warn({ principal, err: loggableError(error) }, 'Detector could not suspend');
      return 'refused';
    }
  }
}
