import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { AuditRequestContext } from '../audit/audit-context';
import { AuditWriter } from '../audit/audit-writer';
import { AccessPolicy } from '../auth/grants/access-policy';
import { pathProblem } from '../auth/grants/path-pattern';
import type { Capability } from '../common/auth/access-vocabulary';
import type { Principal } from '../common/auth/principal';
import { DomainError } from '../common/errors/domain-error';
import { RequestValidationError } from '../common/validation/request-validation.error';
import { vaultCompatConfig, VaultMount } from '../config/vault-compat.config';
import { CredentialLifecycleService } from '../credentials/credential-lifecycle.service';
import { CredentialQueryService } from '../credentials/credential-query.service';
import { CredentialNotFoundError, VersionMismatchError } from '../credentials/credential.errors';
import { CredentialsService } from '../credentials/credentials.service';
import type { Credential } from '../credentials/entities/credential.entity';
import { RevealService } from '../credentials/reveal.service';
import { SecretVersionsService } from '../credentials/secret-versions.service';
import { customMetadataOf, vaultTime } from './vault-envelope';
import {
  VaultNoHandlerError,
  VaultPermissionDeniedError,
  VaultSecretDeletedError,
  VaultRoleRequiredError,
  VaultUnsupportedError,
} from './vault.errors';
import { credentialPathOf, findMount, listChildren, listPrefixOf, nameOfPath } from './vault-paths';

/** The most credential paths a LIST reads to build one folder's keys. */
export const LIST_PATH_LIMIT = 10_000;

export interface KvWriteInput {
  data: Record<string, unknown>;
  cas?: number;
}

/**
 * Vault KV v2 on Custos credentials: each operation is one call to the service behind the native
 * route that does the same, so grants, audit events, hooks and observers are the same too.
 */
@Injectable()
export class VaultKvService {
  constructor(
    @Inject(vaultCompatConfig.KEY) private readonly config: ConfigType<typeof vaultCompatConfig>,
    private readonly reveals: RevealService,
    private readonly credentials: CredentialsService,
    private readonly queries: CredentialQueryService,
    private readonly versions: SecretVersionsService,
    private readonly lifecycle: CredentialLifecycleService,
    private readonly audit: AuditWriter,
    private readonly policy: AccessPolicy,
  ) {}

  /** `GET data/<path>`: a reveal by path (`reveal`), current or named version. */
  async read(
    mountName: string,
    rest: string,
    version: number | undefined,
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<Record<string, unknown>> {
    const path = await this.permittedPath(mountName, rest, principal, 'reveal');
    const revealed = await this.reveals
      .revealByPath(path, principal, context, version)
      .catch((error: unknown) => {
        // Vault answers a version it cannot return (deleted, destroyed, unknown) with a 404.
        if (error instanceof DomainError && error.kind === 'conflict') {
          throw new CredentialNotFoundError().withAudit(error.auditHint ?? {});
        }
        throw error;
      });
    const { credential, versions } = await this.versions.history(revealed.id, principal);
    const row = versions.find((v) => v.version === revealed.version);
    return {
      data: revealed.secret,
      metadata: {
        created_time: vaultTime(row?.createdAt),
        custom_metadata: customMetadataOf(credential.metadata),
        deletion_time: '',
        destroyed: false,
        version: revealed.version,
      },
    };
  }

  /**
   * `POST data/<path>`: a new version of the credential there (`write`, as PUT …/secret, with
   * `cas` as If-Match), or a new `kv` credential (`write`, as POST /credentials).
   */
  async write(
    mountName: string,
    rest: string,
    input: KvWriteInput,
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<Record<string, unknown>> {
    const path = await this.permittedPath(mountName, rest, principal, 'write');
    const id = await this.credentials.idAtPath(path);
    let credential: Credential;
    if (id) {
      if (input.cas === 0) throw new VersionMismatchError('0', -1);
      credential = await this.versions
        .replaceSecret(id, input.data, input.cas, principal, context)
        .catch(async (error: unknown) => {
          if (error instanceof CredentialNotFoundError) await this.refuseIfDeleted(id, principal);
          throw error;
        });
    } else {
      if (input.cas !== undefined && input.cas !== 0) {
        throw new VersionMismatchError(String(input.cas), 0);
      }
      credential = await this.credentials.create(
        { path, name: nameOfPath(path), type: 'kv', secret: input.data },
        principal,
        context,
      );
    }
    return {
      created_time: vaultTime(credential.updatedAt),
      custom_metadata: customMetadataOf(credential.metadata),
      deletion_time: '',
      destroyed: false,
      version: credential.currentVersion,
    };
  }

  /** `GET metadata/<path>`: the version history (`read`), never a value. */
  async metadata(
    mountName: string,
    rest: string,
    principal: Principal,
  ): Promise<Record<string, unknown>> {
    const path = await this.permittedPath(mountName, rest, principal, 'read');
    const id = await this.credentials.idAtPath(path);
    if (!id) throw new CredentialNotFoundError();
    // A soft-deleted secret keeps its metadata, as in Vault; every version of it is deleted.
    const { credential, versions: history } = await this.versions.history(id, principal, {
      includeDeleted: true,
    });
    const deletedAt = credential.status === 'deleted' ? credential.deletedAt : null;
    const versions = Object.fromEntries(
      [...history]
        .sort((a, b) => a.version - b.version)
        .map((v) => [
          String(v.version),
          {
            created_time: vaultTime(v.createdAt),
            deletion_time: v.state === 'destroyed' ? '' : vaultTime(v.revokedAt ?? deletedAt),
            destroyed: v.state === 'destroyed',
          },
        ]),
    );
    return {
      cas_required: false,
      created_time: vaultTime(credential.createdAt),
      current_version: credential.currentVersion,
      custom_metadata: customMetadataOf(credential.metadata),
      delete_version_after: '0s',
      max_versions: 0,
      oldest_version: history.length > 0 ? Math.min(...history.map((v) => v.version)) : 0,
      updated_time: vaultTime(credential.updatedAt),
      versions,
    };
  }

  /**
   * `LIST metadata/<folder>`: the folder's children among the paths the caller may read
   * (`read`), audited as the native list (`credential.list`).
   */
  async list(
    mountName: string,
    rest: string,
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<string[]> {
    const mount = this.mountOf(mountName);
    const prefix = listPrefixOf(mount, rest);
    if (prefix !== '') this.checkPath(prefix.slice(0, -1));
    // Decided from the grants alone, so the 403 and the 404 below say nothing of what is stored.
    if (!(await this.policy.forPrincipal(principal)).mayUnder('read', prefix)) {
      throw new VaultPermissionDeniedError();
    }
    const paths = await this.queries.readablePathsUnder(prefix, principal, LIST_PATH_LIMIT);
    const keys = listChildren(prefix, paths);
    if (keys.length === 0) throw new CredentialNotFoundError();
    await this.audit.record({
      action: 'credential.list',
      outcome: 'success',
      httpStatus: 200,
      resourceType: 'credential',
      details: { pathPrefix: prefix, keys: keys.length, via: 'vault' },
      context,
    });
    return keys;
  }

  /** `DELETE data/<path>`: the native soft delete (`delete`); restore brings it back. */
  async softDelete(
    mountName: string,
    rest: string,
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<void> {
    const id = await this.idOf(mountName, rest, principal);
    await this.lifecycle.softDelete(id, principal, context);
  }

  /**
   * `POST delete/<path>` `{versions}`: Custos soft-deletes a credential as a whole, so the request
   * must name every version not yet destroyed; then it is the native soft delete (`delete`).
   */
  async deleteVersions(
    mountName: string,
    rest: string,
    requested: readonly number[],
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<void> {
    const credential = await this.requireAllLive(mountName, rest, requested, principal, 'deletes');
    await this.lifecycle.softDelete(credential.id, principal, context);
  }

  /** `POST undelete/<path>`: the native restore of a soft-deleted credential (`delete`). */
  async undelete(
    mountName: string,
    rest: string,
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<void> {
    const id = await this.idOf(mountName, rest, principal);
    await this.lifecycle.restore(id, principal, context);
  }

  /**
   * `POST destroy/<path>`: Custos destroys (crypto-shreds) a credential's versions all at once,
   * so the request must name every version not yet destroyed; then it is the native destroy
   * (admin, `delete`).
   */
  async destroyVersions(
    mountName: string,
    rest: string,
    requested: readonly number[],
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<void> {
    requireAdmin(principal);
    const credential = await this.requireAllLive(mountName, rest, requested, principal, 'destroys');
    await this.lifecycle.destroy(credential.id, principal, context);
  }

  /** The credential, once `requested` names every one of its versions not yet destroyed. */
  private async requireAllLive(
    mountName: string,
    rest: string,
    requested: readonly number[],
    principal: Principal,
    verb: 'deletes' | 'destroys',
  ): Promise<Credential> {
    const path = await this.permittedPath(mountName, rest, principal, 'delete');
    const credential = await this.credentials.getByPath(path, principal);
    const history = await this.versions.list(credential.id, principal);
    const live = history.filter((v) => v.state !== 'destroyed').map((v) => v.version);
    const missing = live.filter((v) => !requested.includes(v));
    if (missing.length > 0) {
      throw new VaultUnsupportedError(
        `Custos ${verb} every version of a secret at once: name all of them ` +
          `(${live.join(', ')}) or use DELETE /v1/${mountName}/${verb === 'deletes' ? 'data' : 'metadata'}/<path>`,
      );
    }
    return credential;
  }

  /** `DELETE metadata/<path>`: every version and the metadata, i.e. the native destroy. */
  async destroyAll(
    mountName: string,
    rest: string,
    principal: Principal,
    context?: AuditRequestContext,
  ): Promise<void> {
    requireAdmin(principal);
    const id = await this.idOf(mountName, rest, principal);
    await this.lifecycle.destroy(id, principal, context);
  }

  /**
   * A write to a soft-deleted secret: Custos cannot add a version to it without undeleting every
   * other one (a restore, which needs `delete`), so it says what to do instead. Only to a caller
   * that may read it; any other keeps the plain 404.
   */
  private async refuseIfDeleted(id: string, principal: Principal): Promise<void> {
    const found = await this.versions
      .history(id, principal, { includeDeleted: true })
      .catch((error: unknown) => {
        if (error instanceof CredentialNotFoundError) return undefined;
        throw error;
      });
    if (found?.credential.status === 'deleted') throw new VaultSecretDeletedError();
  }

  /** The credential at a path the caller may delete (`delete`). */
  private async idOf(mountName: string, rest: string, principal: Principal): Promise<string> {
    const path = await this.permittedPath(mountName, rest, principal, 'delete');
    const id = await this.credentials.idAtPath(path);
    if (!id) throw new CredentialNotFoundError();
    return id;
  }

  /**
   * The credential path, once the caller's role or grants give `capability` on it: otherwise
   * 403 whether or not a credential is there, as Vault answers, so neither a read nor a write
   * tells an outsider what exists. The native services check again on the credential itself.
   */
  private async permittedPath(
    mountName: string,
    rest: string,
    principal: Principal,
    capability: Capability,
  ): Promise<string> {
    const path = this.pathOf(mountName, rest);
    if (!(await this.policy.can(principal, capability, path))) {
      throw new VaultPermissionDeniedError();
    }
    return path;
  }

  private pathOf(mountName: string, rest: string): string {
    const path = credentialPathOf(this.mountOf(mountName), rest);
    this.checkPath(path);
    return path;
  }

  private checkPath(path: string): void {
    const problem = pathProblem(path);
    if (problem) throw new RequestValidationError([{ field: 'path', errors: [problem] }]);
  }

  private mountOf(name: string): VaultMount {
    const mount = findMount(this.config.mounts, name);
    if (!mount) throw new VaultNoHandlerError();
    return mount;
  }
}

/** The native destroy route is for admins only (@Roles('admin')), on top of the grant. */
function requireAdmin(principal: Principal): void {
  if (principal.type !== 'user' || principal.role !== 'admin') {
    throw new VaultRoleRequiredError('admin');
  }
}
