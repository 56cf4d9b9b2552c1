import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import type { Capability } from '../common/auth/access-vocabulary';
import { AccessPolicy, PrincipalAccess } from '../auth/grants/access-policy';
import type { Principal } from '../common/auth/principal';
import { rowLock } from '../database/dialect';
import { CapabilityRequiredError, CredentialNotFoundError } from './credential.errors';
import { Credential } from './entities/credential.entity';

export interface AccessOptions {
  /** Lock the row for the rest of the transaction (changes). */
  lock?: boolean;
  /** Also find soft-deleted credentials (restore, destroy, versions of a deleted one). */
  includeDeleted?: boolean;
}

/**
 * Loads a credential for a caller and checks one capability on its path. A caller that may not
 * read it gets the same 404 as for a missing one (no probing for paths or ids); one that may read
 * it but lacks the capability gets 403.
 */
@Injectable()
export class CredentialAccess {
  constructor(private readonly policy: AccessPolicy) {}

  async byId(
    manager: EntityManager,
    principal: Principal,
    id: string,
    capability: Capability,
    options: AccessOptions = {},
  ): Promise<Credential> {
    const credential = await manager.findOne(Credential, {
      where: { id },
      ...(options.lock ? { lock: rowLock(manager) } : {}),
    });
    return this.authorize(manager, principal, credential, capability, options);
  }

  /** The same check for a credential the caller loaded itself (null: not found). */
  async authorize(
    manager: EntityManager,
    principal: Principal,
    credential: Credential | null,
    capability: Capability,
    options: AccessOptions = {},
  ): Promise<Credential> {
    if (!credential || credential.status === 'destroyed') throw new CredentialNotFoundError();
    const capabilities = await this.policy.capabilitiesFor(principal, credential.path, manager);
    return this.verdict(credential, capabilities, capability, options);
  }

  /** The same check with the caller's access already loaded (e.g. in the same statement). */
  check<T extends Pick<Credential, 'id' | 'path' | 'status'>>(
    access: PrincipalAccess,
    credential: T | null,
    capability: Capability,
    options: AccessOptions = {},
  ): T {
    if (!credential || credential.status === 'destroyed') throw new CredentialNotFoundError();
    return this.verdict(credential, access.capabilitiesFor(credential.path), capability, options);
  }

  /** One place for the rules of both: 404 where the caller may not read, 403 where it may. */
  private verdict<T extends Pick<Credential, 'id' | 'status'>>(
    credential: T,
    capabilities: ReadonlySet<Capability>,
    capability: Capability,
    options: AccessOptions,
  ): T {
    // The same 404 as for a missing one, but the audit log says it was a refusal: an auditor
    // must see which paths a caller probed. Its id stays out: the caller may not know it.
    if (!capabilities.has('read'))
      throw new CredentialNotFoundError().withAudit({ outcome: 'denied' });
    const known = { details: { credentialId: credential.id } };
    if (credential.status === 'deleted' && !options.includeDeleted)
      throw new CredentialNotFoundError().withAudit(known);
    if (!capabilities.has(capability))
      throw new CapabilityRequiredError(capability).withAudit(known);
    return credential;
  }
}
