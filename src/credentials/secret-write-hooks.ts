import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { AuditRequestContext } from '../audit/audit-context';
import type { Principal } from '../common/auth/principal';
import type { Credential } from './entities/credential.entity';
import type { Promotion } from './version-store';

/** What a hook wants of a manual secret write it has seen. */
export interface SecretWritePlan {
  /** The grace the old value gets, instead of the configured default. */
  graceSeconds?: number;
  /** Runs after the switch, in the same transaction. */
  afterPromote?: (promotion: Promotion) => Promise<void>;
}

/**
 * Lets a module above credentials (rotation) take part in a manual `PUT …/secret` without
 * credentials importing it: a waiting manual rotation finishes with the value a person writes,
 * and an automatic rotation in flight refuses the write. Called inside the write's transaction
 * with the credential row locked.
 */
export interface SecretWriteHook {
  beforeWrite(
    manager: EntityManager,
    credential: Credential,
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<SecretWritePlan | undefined>;
}

@Injectable()
export class SecretWriteHooks {
  private readonly hooks: SecretWriteHook[] = [];

  register(hook: SecretWriteHook): void {
    this.hooks.push(hook);
  }

  async plan(
    manager: EntityManager,
    credential: Credential,
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<SecretWritePlan> {
    const plan: SecretWritePlan = {};
    const after: NonNullable<SecretWritePlan['afterPromote']>[] = [];
    for (const hook of this.hooks) {
      const part = await hook.beforeWrite(manager, credential, principal, context);
      if (part?.graceSeconds !== undefined) plan.graceSeconds = part.graceSeconds;
      if (part?.afterPromote) after.push(part.afterPromote);
    }
    if (after.length > 0) {
      plan.afterPromote = async (promotion) => {
        for (const step of after) await step(promotion);
      };
    }
    return plan;
  }
}
