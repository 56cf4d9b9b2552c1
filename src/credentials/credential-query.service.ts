import { Injectable } from '@nestjs/common';
import { SelectQueryBuilder } from 'typeorm';
import { AccessPolicy } from '../auth/grants/access-policy';
import { pathPatternsSql } from '../auth/grants/path-pattern-sql';
import type { Principal } from '../common/auth/principal';
import { dialectOf, likeLiteral, timestampParam } from '../database/dialect';
import { TransactionRunner } from '../database/transaction-runner';
import {
  CREDENTIAL_CURSOR,
  CREDENTIAL_PAGE_DEFAULT,
  CredentialListQueryDto,
} from './dto/credential-query.dto';
import { Credential } from './entities/credential.entity';
import { CredentialTag } from './entities/credential-tag.entity';

export interface CredentialPage {
  items: Credential[];
  nextCursor: string | null;
  total: number;
}

/**
 * Lists credentials by path, filtered in the database by what the caller may read, so a page
 * never holds a row it may not see and the total counts only visible ones (DESIGN.md §4.5).
 */
@Injectable()
export class CredentialQueryService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly policy: AccessPolicy,
  ) {}

  async list(query: CredentialListQueryDto, principal: Principal): Promise<CredentialPage> {
    const limit = query.limit ?? CREDENTIAL_PAGE_DEFAULT;
    return this.transactions.read(async (manager) => {
      const access = await this.policy.forPrincipal(principal, manager);
      const scope = access.scopeOf('read');
      const filtered = () => {
        const qb = manager.getRepository(Credential).createQueryBuilder('c');
        this.applyFilters(qb, query);
        if (scope !== 'all') {
          const visible = pathPatternsSql('c.path', scope);
          qb.andWhere(visible.sql, visible.params);
        }
        return qb;
      };
      const total = await filtered().getCount();
      const page = filtered()
        .orderBy('c.path', 'ASC')
        .take(limit + 1);
      const after = CREDENTIAL_CURSOR.decode(query.cursor);
      if (after !== undefined) page.andWhere('c.path > :after', { after });
      const rows = await page.getMany();
      // The SQL filter and the policy must agree; a row they disagree on is never shown.
      const items = rows.slice(0, limit).filter((c) => access.can('read', c.path));
      return {
        items,
        nextCursor: rows.length > limit ? CREDENTIAL_CURSOR.encode(rows[limit - 1].path) : null,
        total,
      };
    });
  }

  private applyFilters(qb: SelectQueryBuilder<Credential>, query: CredentialListQueryDto): void {
    qb.where('c.status = :status', { status: query.deleted ? 'deleted' : 'active' });
    if (query.pathPrefix) {
      qb.andWhere("c.path LIKE :prefix ESCAPE '!'", {
        prefix: `${likeLiteral(query.pathPrefix)}%`,
      });
    }
    if (query.type) qb.andWhere('c.type = :type', { type: query.type });
    if (query.tag) {
      qb.andWhere(
        `EXISTS (SELECT 1 FROM ${qb.connection.getMetadata(CredentialTag).tableName} t WHERE t.credential_id = c.id AND t.tag = :tag)`,
        { tag: query.tag },
      );
    }
    if (query.expiringBefore) {
      qb.andWhere('c.expires_at IS NOT NULL AND c.expires_at < :before', {
        before: timestampParam(dialectOf(qb.connection), new Date(query.expiringBefore)),
      });
    }
    if (query.q) {
      qb.andWhere("(LOWER(c.name) LIKE :q ESCAPE '!' OR c.path LIKE :q ESCAPE '!')", {
        q: `%${likeLiteral(query.q.toLowerCase())}%`,
      });
    }
  }
}
