import { Injectable, Logger } from '@nestjs/common';
import type { AuditRequestContext } from '../audit/audit-context';
import type { Principal } from '../common/auth/principal';

/** A reveal that has been audited and is about to be answered. */
export interface RevealSeen {
  credentialId: string;
  path: string;
  version: number;
  via: 'id' | 'path';
  principal: Principal;
  /** Set by an admin to catch intruders; the answer does not change. */
  decoy: boolean;
  context?: AuditRequestContext;
}

/**
 * Lets a module above credentials (incidents) follow reveals without credentials importing it:
 * a reveal of a decoy opens an incident. Observers run after the reveal's audit event committed
 * and are not awaited, so they neither delay nor fail the reveal: an observer that throws is
 * logged and the answer is unchanged.
 */
export interface RevealObserver {
  afterReveal(reveal: RevealSeen): Promise<void>;
}

@Injectable()
export class RevealObservers {
  private readonly logger = new Logger(RevealObservers.name);
  private readonly observers: RevealObserver[] = [];

  register(observer: RevealObserver): void {
    this.observers.push(observer);
  }

  notify(reveal: RevealSeen): void {
    for (const observer of this.observers) {
      observer.afterReveal(reveal).catch((error: unknown) =>
        this.logger.error(
          `A reveal observer failed for credential ${reveal.credentialId}: ${(error as Error).message}`,
        ),
      );
    }
  }
}
