import { Injectable } from '@nestjs/common';
import type { Principal } from '../../common/auth/principal';
import { DomainError } from '../../common/errors/domain-error';
import type { RevealGuardHook } from '../../credentials/reveal-guard-hooks';
import { TransactionRunner } from '../../database/transaction-runner';
import { FREEZING_STATUSES } from '../incident-vocabulary';

export class CredentialFrozenError extends DomainError {
  readonly kind = 'forbidden';

  constructor(incidentId: string) {
    super(
      `Reveals of this credential are frozen by incident ${incidentId} while it is investigated or contained; an admin can still reveal it`,
    );
    this.details = { incidentId };
  }
}

/**
 * The freeze of an incident's credentials (issue 12 item 3): while a freezing incident is
 * investigating or contained, reveals of its linked credentials are refused to everyone but
 * admins. Read from the database on each reveal, so a freeze or its end holds on every instance
 * at once; admins skip the query.
 */
@Injectable()
export class IncidentRevealFreeze implements RevealGuardHook {
  constructor(private readonly transactions: TransactionRunner) {}

  async beforeReveal(principal: Principal, credential: { id: string }): Promise<void> {
    if (principal.type === 'user' && principal.role === 'admin') return;
    const statuses = FREEZING_STATUSES.map((s) => `'${s}'`).join(', ');
    const [frozen] = await this.transactions.read((manager) =>
      manager.query<{ id: string }[]>(
        'SELECT i.id AS id FROM incident_credentials ic JOIN incidents i ON i.id = ic.incident_id ' +
          `WHERE ic.credential_id = ? AND i.freeze_reveals = 1 AND i.status IN (${statuses}) LIMIT 1`,
        [credential.id],
      ),
    );
    if (frozen) throw new CredentialFrozenError(frozen.id);
  }
}
