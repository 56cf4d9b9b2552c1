import { Injectable } from '@nestjs/common';
import { EntityManager, In } from 'typeorm';
import { databaseNow } from '../database/dialect';
import { IncidentCredential } from './entities/incident-credential.entity';
import { IncidentPrincipal } from './entities/incident-principal.entity';
import type { IncidentPrincipalType } from './incident-vocabulary';

export interface PrincipalRef {
  type: IncidentPrincipalType;
  id: string;
}

/**
 * An incident's scope: the credentials it counts as exposed and the principals it suspects.
 * Callers hold the incident's row lock, so reading the existing links and inserting the missing
 * ones cannot race another writer of the same incident; linking twice is harmless.
 */
@Injectable()
export class IncidentLinks {
  /** Links the credentials not linked yet; answers those it linked. */
  async linkCredentials(
    manager: EntityManager,
    incidentId: string,
    credentialIds: readonly string[],
    linkedBy: string | null,
  ): Promise<string[]> {
    const wanted = [...new Set(credentialIds)];
    if (wanted.length === 0) return [];
    const existing = await manager.find(IncidentCredential, {
      select: { credentialId: true },
      where: { incidentId, credentialId: In(wanted) },
    });
    const known = new Set(existing.map((link) => link.credentialId));
    const added = wanted.filter((id) => !known.has(id));
    if (added.length === 0) return [];
    const linkedAt = await databaseNow(manager);
    await manager.insert(
      IncidentCredential,
      added.map((credentialId) => ({ incidentId, credentialId, linkedAt, linkedBy })),
    );
    return added;
  }

  /** Links the principals not linked yet; answers those it linked. */
  async linkPrincipals(
    manager: EntityManager,
    incidentId: string,
    principals: readonly PrincipalRef[],
    linkedBy: string | null,
  ): Promise<PrincipalRef[]> {
    if (principals.length === 0) return [];
    const existing = await this.principalsOf(manager, incidentId);
    const known = new Set(existing.map(keyOf));
    const added: PrincipalRef[] = [];
    for (const principal of principals) {
      if (known.has(keyOf(principal))) continue;
      known.add(keyOf(principal));
      added.push(principal);
    }
    if (added.length === 0) return [];
    const linkedAt = await databaseNow(manager);
    await manager.insert(
      IncidentPrincipal,
      added.map((p) => ({
        incidentId,
        principalType: p.type,
        principalId: p.id,
        linkedAt,
        linkedBy,
      })),
    );
    return added;
  }

  /** Unlinks what is linked; answers the ids it unlinked. */
  async unlinkCredentials(
    manager: EntityManager,
    incidentId: string,
    credentialIds: readonly string[],
  ): Promise<string[]> {
    const linked = await this.credentialIdsOf(manager, incidentId);
    const removed = [...new Set(credentialIds)].filter((id) => linked.includes(id));
    if (removed.length > 0) {
      await manager.delete(IncidentCredential, { incidentId, credentialId: In(removed) });
    }
    return removed;
  }

  async unlinkPrincipals(
    manager: EntityManager,
    incidentId: string,
    principals: readonly PrincipalRef[],
  ): Promise<PrincipalRef[]> {
    const linked = new Set((await this.principalsOf(manager, incidentId)).map(keyOf));
    const removed = principals.filter((p) => linked.delete(keyOf(p)));
    for (const p of removed) {
      await manager.delete(IncidentPrincipal, {
        incidentId,
        principalType: p.type,
        principalId: p.id,
      });
    }
    return removed;
  }

  async credentialIdsOf(manager: EntityManager, incidentId: string): Promise<string[]> {
    const rows = await manager.find(IncidentCredential, {
      where: { incidentId },
      order: { linkedAt: 'ASC', credentialId: 'ASC' },
    });
    return rows.map((row) => row.credentialId);
  }

  async principalsOf(manager: EntityManager, incidentId: string): Promise<PrincipalRef[]> {
    const rows = await manager.find(IncidentPrincipal, {
      where: { incidentId },
      order: { linkedAt: 'ASC', principalId: 'ASC' },
    });
    return rows.map((row) => ({ type: row.principalType, id: row.principalId }));
  }
}

function keyOf(principal: PrincipalRef): string {
  return `${principal.type}:${principal.id}`;
}
