import { Injectable } from '@nestjs/common';
import { EntityManager } from 'typeorm';
import { AccessPolicy } from '../../auth/grants/access-policy';
import { databaseNow, placeholders } from '../../database/dialect';
import type { BlastRadius, BlastRadiusScope } from './blast-radius.types';
import { RevealAccessQuery } from './reveal-access.query';
import { RevealHistoryQuery } from './reveal-history.query';

/** Without `since`, the window opens this long before the incident was detected. */
export const DEFAULT_LOOKBACK_MS = 30 * 86_400_000;

/**
 * "Who could have seen it, and what did the attacker see": for an incident's linked credentials,
 * who revealed them in the window and who may reveal them now; for its linked principals, what
 * they revealed in the window. Everything comes from the audit log and the grants; no secret is
 * read. Runs in the caller's transaction, so an export reads it in one snapshot with the chain
 * heads.
 */
@Injectable()
export class BlastRadiusService {
  constructor(private readonly policy: AccessPolicy) {}

  async compute(
    manager: EntityManager,
    scope: BlastRadiusScope,
    since?: Date,
  ): Promise<BlastRadius> {
    const from = since ?? new Date(scope.detectedAt.getTime() - DEFAULT_LOOKBACK_MS);
    const until = await databaseNow(manager);
    const history = new RevealHistoryQuery(manager);
    const actorIds = scope.principals.map((p) => p.id);
    const [ofCredentials, byPrincipals] = [
      await history.ofCredentials(scope.credentialIds, from, until),
      await history.byActors(actorIds, from, until),
    ];
    const paths = await this.paths(manager, [
      ...scope.credentialIds,
      ...byPrincipals.map((g) => g.credentialId),
    ]);
    const linked = scope.credentialIds
      .filter((id) => paths.has(id))
      .map((id) => ({ id, path: paths.get(id) as string }));
    const access = await new RevealAccessQuery(manager, this.policy).forCredentials(linked);
    return {
      incidentId: scope.incidentId,
      since: from.toISOString(),
      until: until.toISOString(),
      credentials: scope.credentialIds.map((credentialId) => ({
        credentialId,
        path: paths.get(credentialId) ?? null,
        revealedBy: ofCredentials
          .filter((g) => g.credentialId === credentialId)
          .map(({ credentialId: _, ...summary }) => summary),
        canRevealNow: access.get(credentialId) ?? [],
      })),
      principals: scope.principals.map((principal) => ({
        principal,
        revealed: byPrincipals
          .filter((g) => g.principal.id === principal.id && g.principal.type === principal.type)
          .map(({ principal: _, credentialId, ...summary }) => ({
            credentialId,
            path: paths.get(credentialId) ?? null,
            ...summary,
          })),
      })),
    };
  }

  /** Current paths of credentials, soft-deleted ones included (their history still matters). */
  private async paths(manager: EntityManager, ids: string[]): Promise<Map<string, string>> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return new Map();
    const rows = await manager.query<{ id: string; path: string }[]>(
      `SELECT id, path FROM credentials WHERE id IN (${placeholders(unique)})`,
      unique,
    );
    return new Map(rows.map((row) => [row.id, row.path]));
  }
}
