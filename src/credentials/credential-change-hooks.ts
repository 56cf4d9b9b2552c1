import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { Credential } from './entities/credential.entity';

/**
 * Lets a module above credentials (rotation) follow credentials as they are created and moved
 * without credentials importing it: a path-pattern rotation policy must schedule a credential
 * that appears under its pattern. Called inside the change's transaction, after the row is
 * written and before the audit event.
 */
export interface CredentialChangeHook {
  afterCreate(manager: EntityManager, credential: Credential): Promise<void>;
  /** `credential` already holds its new path. */
  afterMove(manager: EntityManager, credential: Credential, previousPath: string): Promise<void>;
}

@Injectable()
export class CredentialChangeHooks {
  private readonly hooks: CredentialChangeHook[] = [];

  register(hook: CredentialChangeHook): void {
    this.hooks.push(hook);
  }

  async afterCreate(manager: EntityManager, credential: Credential): Promise<void> {
    for (const hook of this.hooks) await hook.afterCreate(manager, credential);
  }

  async afterMove(
    manager: EntityManager,
    credential: Credential,
    previousPath: string,
  ): Promise<void> {
    for (const hook of this.hooks) await hook.afterMove(manager, credential, previousPath);
  }
}
