import { Inject, Injectable, Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { ConfigType } from '@nestjs/config';
import { SYSTEM } from '../../audit/audit-context';
import { PrincipalSuspension } from '../../auth/principal-suspension';
import { TransactionRunner } from '../../database/transaction-runner';
import type { AuditRequestContext } from '../../audit/audit-context';
import type { Principal } from '../../common/auth/principal';
import { leakScanConfig } from '../../config/leak-scan.config';
import type { RevealObserver, RevealSeen } from '../../credentials/reveal-observers';
import { IncidentRecorder } from '../incident-recorder';

export interface DecoySighting {
  credentialId: string;
  path: string;
  version: number;
  /** `reveal` by id or path, or `scan`: its value was in a leak scan's text. */
  how: 'reveal_by_id' | 'reveal_by_path' | 'scan';
  principal: Principal;
  context?: AuditRequestContext;
}

/**
 * Nobody has a reason to touch a decoy: any reveal of one, or its value turning up in a leak
 * scan, opens (or adds to) a `decoy_access` incident naming the principal, one per principal and
 * decoy within the window, and with DECOY_SUSPEND_PRINCIPAL suspends the principal (a user is
 * disabled and its sessions end; a service account is disabled and its keys revoked). The reveal
 * itself is answered as usual, so the intruder is not warned.
 */
@Injectable()
export class DecoyWatch implements RevealObserver {
  private readonly logger = new Logger(DecoyWatch.name);

  constructor(
    private readonly recorder: IncidentRecorder,
    private readonly suspension: PrincipalSuspension,
    private readonly transactions: TransactionRunner,
    @Inject(leakScanConfig.KEY) private readonly config: ConfigType<typeof leakScanConfig>,
  ) {}

  /** In the transaction that records the reveal's audit event (see RevealObservers). */
  onDecoyReveal(manager: EntityManager, reveal: RevealSeen): Promise<void> {
    return this.record(manager, {
      credentialId: reveal.credentialId,
      path: reveal.path,
      version: reveal.version,
      how: reveal.via === 'id' ? 'reveal_by_id' : 'reveal_by_path',
      principal: reveal.principal,
      context: reveal.context,
    });
  }

  /** A decoy's value seen elsewhere (a leak scan), in a transaction of its own. */
  seen(sighting: DecoySighting): Promise<void> {
    return this.transactions.run((manager) => this.record(manager, sighting));
  }

  private async record(manager: EntityManager, sighting: DecoySighting): Promise<void> {
    const { principal } = sighting;
    const principalType = principal.type === 'user' ? 'user' : 'service_account';
    const who = principal.type === 'user' ? principal.email : principal.name;
    const { opened, incident } = await this.recorder.openOrAdd(
      {
        type: 'decoy_access',
        severity: 'critical',
        title: `Decoy ${sighting.path} ${sighting.how === 'scan' ? 'found in a leak scan' : 'revealed'} by ${principalType} ${who}`,
        dedupeKey: `decoy_access:${principalType}:${principal.id}:${sighting.credentialId}`,
        windowSeconds: this.config.incidentWindowSeconds,
        credentialIds: [sighting.credentialId],
        principals: [{ type: principalType, id: principal.id }],
        detection: {
          detector: 'decoy',
          how: sighting.how,
          credentialId: sighting.credentialId,
          path: sighting.path,
          version: sighting.version,
          principal: { type: principalType, id: principal.id, name: who },
          ip: sighting.context?.ip ?? null,
          requestId: sighting.context?.requestId ?? null,
        },
        actor: SYSTEM,
      },
      manager,
    );
    if (opened) this.logger.warn(`Decoy ${sighting.path} touched: incident ${incident.id}`);
    if (this.config.decoySuspendPrincipal) await this.suspend(manager, sighting);
  }

  /** The last active admin is never suspended; the incident names it all the same. */
  private async suspend(
    manager: EntityManager,
    { principal, path, context }: DecoySighting,
  ): Promise<void> {
    const reason = `touched the decoy ${path}`;
    const outcome =
      principal.type === 'user'
        ? await this.suspension.suspendUser(manager, principal.id, reason, context)
        : await this.suspension.suspendServiceAccount(manager, principal.id, reason, context);
    if (outcome.refused) {
      this.logger.warn(`Did not suspend ${outcome.type} ${outcome.id}: ${outcome.refused}`);
    }
  }
}
