import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AccessPolicy, PrincipalAccess } from '../auth/grants/access-policy';
import { pathPatternsSql } from '../auth/grants/path-pattern-sql';
import type { Principal } from '../common/auth/principal';
import { Dialect, dialectOf, likeLiteral, timestampParam } from '../database/dialect';
import { DirectSql } from '../database/direct-sql';
import { credentialFromRow, credentialSelect } from './credential-row';
import {
  CREDENTIAL_CURSOR,
  CREDENTIAL_PAGE_DEFAULT,
  CredentialListQueryDto,
} from './dto/credential-query.dto';
import { Credential } from './entities/credential.entity';

export interface CredentialPage {
  items: Credential[];
  nextCursor: string | null;
  total: number;
}

/**
 * Lists credentials by path, filtered in the database by what the caller may read, so a page
 * never holds a row it may not see and the total counts only visible ones (DESIGN.md §4.5).
 * Plain SQL, three statements (grants, count, page): services list on every start, and through
 * the query builder building and hydrating a page cost twice what the database does.
 */
@Injectable()
export class CredentialQueryService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly sql: DirectSql,
    private readonly policy: AccessPolicy,
  ) {}

  async list(query: CredentialListQueryDto, principal: Principal): Promise<CredentialPage> {
    const limit = query.limit ?? CREDENTIAL_PAGE_DEFAULT;
    const dialect = dialectOf(this.dataSource);
    const access = await this.accessOf(principal, dialect);
    const { where, parameters } = this.filters(query, access, dialect);
    const after = CREDENTIAL_CURSOR.decode(query.cursor);
    const [[counted], rows] = await Promise.all([
      this.sql.select<{ total: number | string }>(
        `SELECT COUNT(*) AS total FROM credentials c WHERE ${where}`,
        parameters,
      ),
      this.sql.select<Parameters<typeof credentialFromRow>[0]>(
        `SELECT ${credentialSelect('c')} FROM credentials c WHERE ${where}` +
          `${after === undefined ? '' : ' AND c.path > ?'} ORDER BY c.path ASC LIMIT ?`,
        [...parameters, ...(after === undefined ? [] : [after]), limit + 1],
      ),
    ]);
    // The SQL filter and the policy must agree; a row they disagree on is never shown.
    const items = rows
      .slice(0, limit)
      .map(credentialFromRow)
      .filter((c) => access.can('read', c.path));
    return {
      items,
      nextCursor:
        rows.length > limit ? CREDENTIAL_CURSOR.encode(String(rows[limit - 1].path)) : null,
      total: Number(counted.total),
    };
  }

  /**
   * The paths of the active credentials under `prefix` (which ends in '/' or is '') that the
   * caller may read, in order, at most `limit`: for listings by folder (Vault KV's LIST).
   */
  async readablePathsUnder(prefix: string, principal: Principal, limit: number): Promise<string[]> {
    const dialect = dialectOf(this.dataSource);
    const access = await this.accessOf(principal, dialect);
    const { where, parameters } = this.filters(
      { pathPrefix: prefix || undefined },
      access,
      dialect,
    );
    const rows = await this.sql.select<{ path: string }>(
      `SELECT c.path AS path FROM credentials c WHERE ${where} ORDER BY c.path ASC LIMIT ?`,
      [...parameters, limit],
    );
    return rows.map((row) => String(row.path)).filter((path) => access.can('read', path));
  }

  /** The caller's grants in a statement of their own (none needed for roles that read all). */
  private async accessOf(principal: Principal, dialect: Dialect): Promise<PrincipalAccess> {
    const grants = this.policy.grantsColumn(principal, dialect);
    if (!grants) return this.policy.accessFrom(principal, null);
    const [row] = await this.sql.select<{ grants: unknown }>(
      `SELECT ${grants.sql} AS grants`,
      grants.parameters,
    );
    return this.policy.accessFrom(principal, row?.grants);
  }

  private filters(
    query: CredentialListQueryDto,
    access: PrincipalAccess,
    dialect: Dialect,
  ): { where: string; parameters: unknown[] } {
    const clauses = ['c.status = ?'];
    const parameters: unknown[] = [query.deleted ? 'deleted' : 'active'];
    if (query.pathPrefix) {
      clauses.push("c.path LIKE ? ESCAPE '!'");
      parameters.push(`${likeLiteral(query.pathPrefix)}%`);
    }
    if (query.type) {
      clauses.push('c.type = ?');
      parameters.push(query.type);
    }
    if (query.tag) {
      clauses.push(
        'EXISTS (SELECT 1 FROM credential_tags t WHERE t.credential_id = c.id AND t.tag = ?)',
      );
      parameters.push(query.tag);
    }
    if (query.expiringBefore) {
      clauses.push('c.expires_at IS NOT NULL AND c.expires_at < ?');
      parameters.push(timestampParam(dialect, new Date(query.expiringBefore)));
    }
    if (query.rotationDueBefore) {
      clauses.push('c.next_rotation_at <= ?');
      parameters.push(timestampParam(dialect, new Date(query.rotationDueBefore)));
    }
    if (query.rotationStatus) {
      clauses.push('c.rotation_status = ?');
      parameters.push(query.rotationStatus);
    }
    if (query.q) {
      clauses.push("(LOWER(c.name) LIKE ? ESCAPE '!' OR c.path LIKE ? ESCAPE '!')");
      const q = `%${likeLiteral(query.q.toLowerCase())}%`;
      parameters.push(q, q);
    }
    const scope = access.scopeOf('read');
    if (scope !== 'all') {
      const visible = pathPatternsSql('c.path', scope);
      clauses.push(visible.sql);
      parameters.push(...visible.parameters);
    }
    return { where: clauses.join(' AND '), parameters };
  }
}
