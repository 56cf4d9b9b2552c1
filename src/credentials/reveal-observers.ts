import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { AuditRequestContext } from '../audit/audit-context';
import type { Principal } from '../common/auth/principal';

/** A reveal of a decoy, about to be answered. */
export interface RevealSeen {
  credentialId: string;
  path: string;
  version: number;
  via: 'id' | 'path';
  principal: Principal;
  context?: AuditRequestContext;
}

/**
 * Lets a module above credentials (incidents) act on a reveal of a decoy without credentials
 * importing it. Observers run in the transaction that records the reveal's audit event, so the
 * incident they write commits with that event or neither does: no crash can leave a decoy's
 * reveal on record without its incident. Reveals of other credentials never reach them.
 */
export interface RevealObserver {
  onDecoyReveal(manager: EntityManager, reveal: RevealSeen): Promise<void>;
}

@Injectable()
export class RevealObservers {
  private readonly observers: RevealObserver[] = [];

  register(observer: RevealObserver): void {
    this.observers.push(observer);
  }

  async decoyRevealed(manager: EntityManager, reveal: RevealSeen): Promise<void> {
    for (const observer of this.observers) await observer.onDecoyReveal(manager, reveal);
  }
}
