import { Injectable } from '@nestjs/common';
import type { Principal } from '../common/auth/principal';

/**
 * Lets a module above credentials (incidents: a freeze of exposed credentials) refuse a reveal
 * without credentials importing it. Called after access is granted and before decryption; a hook
 * refuses by throwing a DomainError, which the reveal's audit event records.
 */
export interface RevealGuardHook {
  beforeReveal(principal: Principal, credential: { id: string; path: string }): Promise<void>;
}

@Injectable()
export class RevealGuardHooks {
  private readonly hooks: RevealGuardHook[] = [];

  register(hook: RevealGuardHook): void {
    this.hooks.push(hook);
  }

  async check(principal: Principal, credential: { id: string; path: string }): Promise<void> {
    for (const hook of this.hooks) await hook.beforeReveal(principal, credential);
  }
}
