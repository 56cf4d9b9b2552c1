import { EntityManager } from 'typeorm';
import { Dialect, dialectOf, placeholders, timestampParam, toDate } from '../../database/dialect';
import type { AuditedPrincipal, RevealSummary } from './blast-radius.types';

/** Reveals of one credential by one actor in the window, summed up. */
export interface RevealGroup extends RevealSummary {
  credentialId: string;
  principal: AuditedPrincipal;
}

interface Row {
  credentialId: string;
  actorType: string;
  actorId: string;
  actorDisplay: string | null;
  ip: string | null;
  version: number | string | null;
  reveals: number | string;
  firstAt: Date | string;
  lastAt: Date | string;
}

/**
 * Successful reveals from the audit log, for the blast radius: of given credentials (over the
 * index on (resource_id, action, occurred_at)) or by given actors (over the one on (actor_id,
 * action, occurred_at)). The database groups by actor, credential, IP and version, so the rows
 * returned grow with the distinct combinations, not with the number of reveals.
 */
export class RevealHistoryQuery {
  constructor(private readonly manager: EntityManager) {}

  ofCredentials(credentialIds: string[], since: Date, until: Date): Promise<RevealGroup[]> {
    return this.groups('resource_id', credentialIds, since, until);
  }

  /** By audit actor ids: a service account is the actor `service` with the same id. */
  byActors(actorIds: string[], since: Date, until: Date): Promise<RevealGroup[]> {
    return this.groups('actor_id', actorIds, since, until);
  }

  private async groups(
    column: 'resource_id' | 'actor_id',
    ids: string[],
    since: Date,
    until: Date,
  ): Promise<RevealGroup[]> {
    if (ids.length === 0) return [];
    const dialect = dialectOf(this.manager);
    const version = versionOf(dialect);
    const rows = await this.manager.query<Row[]>(
      'SELECT resource_id AS credentialId, actor_type AS actorType, actor_id AS actorId, ' +
        `MAX(actor_display) AS actorDisplay, ip, ${version} AS version, COUNT(*) AS reveals, ` +
        'MIN(occurred_at) AS firstAt, MAX(occurred_at) AS lastAt FROM audit_events ' +
        `WHERE ${column} IN (${placeholders(ids)}) AND action = 'credential.reveal' ` +
        "AND outcome = 'success' AND actor_id IS NOT NULL AND resource_id IS NOT NULL " +
        'AND occurred_at >= ? AND occurred_at <= ? ' +
        `GROUP BY resource_id, actor_type, actor_id, ip, ${version}`,
      [...ids, timestampParam(dialect, since), timestampParam(dialect, until)],
    );
    return merge(rows);
  }
}

/** One group per (credential, actor), its IPs and versions collected from the finer rows. */
function merge(rows: Row[]): RevealGroup[] {
  const groups = new Map<string, RevealGroup & { first: Date; last: Date }>();
  for (const row of rows) {
    const key = `${row.credentialId}\n${row.actorType}\n${row.actorId}`;
    const first = toDate(row.firstAt);
    const last = toDate(row.lastAt);
    let group = groups.get(key);
    if (!group) {
      group = {
        credentialId: row.credentialId,
        principal: {
          type: principalType(row.actorType),
          id: row.actorId,
          display: row.actorDisplay,
        },
        reveals: 0,
        first,
        last,
        firstAt: '',
        lastAt: '',
        versions: [],
        ips: [],
      };
      groups.set(key, group);
    }
    group.reveals += Number(row.reveals);
    if (first < group.first) group.first = first;
    if (last > group.last) group.last = last;
    if (row.version !== null && !group.versions.includes(Number(row.version))) {
      group.versions.push(Number(row.version));
    }
    if (row.ip && !group.ips.includes(row.ip)) group.ips.push(row.ip);
  }
  return [...groups.values()]
    .map(({ first, last, ...group }) => ({
      ...group,
      firstAt: first.toISOString(),
      lastAt: last.toISOString(),
      versions: group.versions.sort((a, b) => a - b),
      ips: group.ips.sort(),
    }))
    .sort(
      (a, b) => a.firstAt.localeCompare(b.firstAt) || a.principal.id.localeCompare(b.principal.id),
    );
}

/** The audit log says `service`; incidents and grants say `service_account`. */
export function principalType(actorType: string): AuditedPrincipal['type'] {
  if (actorType === 'service') return 'service_account';
  if (actorType === 'user' || actorType === 'system') return actorType;
  return 'anonymous';
}

function versionOf(dialect: Dialect): string {
  return dialect === 'mariadb'
    ? "CAST(JSON_VALUE(details, '$.version') AS INTEGER)"
    : "CAST(json_extract(details, '$.version') AS INTEGER)";
}
