import { Injectable } from '@nestjs/common';
import { Brackets, EntityManager } from 'typeorm';
import type { Principal } from '../../common/auth/principal';
import { CredentialAccess } from '../../credentials/credential-access';
import { CredentialNotFoundError } from '../../credentials/credential.errors';
import type { KeysetPage } from '../../database/keyset-page';
import { TransactionRunner } from '../../database/transaction-runner';
import {
  RUN_CURSOR,
  RUN_PAGE_DEFAULT,
  RunListQueryDto,
  RunPageQueryDto,
} from '../dto/rotation-run-query.dto';
import { RotationRun } from '../entities/rotation-run.entity';
import { RotationRunNotFoundError } from './rotation.errors';

/** Rotation history: one credential's runs, every run (with filters), one run. */
@Injectable()
export class RotationRunQuery {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly access: CredentialAccess,
  ) {}

  forCredential(
    credentialId: string,
    page: RunPageQueryDto,
    principal: Principal,
  ): Promise<KeysetPage<RotationRun>> {
    return this.transactions.read(async (manager) => {
      await this.access.byId(manager, principal, credentialId, 'read');
      return this.page(manager, { ...page, credentialId });
    });
  }

  /** Every run; the route is for roles that see every credential's metadata. */
  list(query: RunListQueryDto): Promise<KeysetPage<RotationRun>> {
    return this.transactions.read((manager) => this.page(manager, query));
  }

  /** A run of a credential the caller may not read is as missing as the credential. */
  get(runId: string, principal: Principal): Promise<RotationRun> {
    return this.transactions.read(async (manager) => {
      const run = await manager.findOneBy(RotationRun, { id: runId });
      if (!run) throw new RotationRunNotFoundError();
      await this.access.byId(manager, principal, run.credentialId, 'read').catch((e: unknown) => {
        throw e instanceof CredentialNotFoundError ? new RotationRunNotFoundError() : e;
      });
      return run;
    });
  }

  private async page(
    manager: EntityManager,
    query: RunListQueryDto,
  ): Promise<KeysetPage<RotationRun>> {
    const limit = query.limit ?? RUN_PAGE_DEFAULT;
    const qb = manager
      .createQueryBuilder(RotationRun, 'r')
      .orderBy('r.started_at', 'DESC')
      .addOrderBy('r.id', 'DESC')
      .take(limit + 1);
    if (query.credentialId) qb.andWhere('r.credential_id = :credentialId', query);
    if (query.status) qb.andWhere('r.status = :status', query);
    if (query.trigger) qb.andWhere('r.triggered_by = :trigger', query);
    if (query.from) qb.andWhere('r.started_at >= :from', { from: new Date(query.from) });
    if (query.to) qb.andWhere('r.started_at < :to', { to: new Date(query.to) });
    const after = RUN_CURSOR.decode(query.cursor);
    if (after) {
      const [ms, id] = after.split('|');
      const at = new Date(Number(ms));
      qb.andWhere(
        new Brackets((w) =>
          w
            .where('r.started_at < :at', { at })
            .orWhere('(r.started_at = :at AND r.id < :id)', { at, id }),
        ),
      );
    }
    const rows = await qb.getMany();
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items,
      nextCursor:
        rows.length > limit ? RUN_CURSOR.encode(`${last.startedAt.getTime()}|${last.id}`) : null,
    };
  }
}
