import { EntityManager } from 'typeorm';
import { Incident } from '../entities/incident.entity';
import { IncidentCredential } from '../entities/incident-credential.entity';
import { IncidentPrincipal } from '../entities/incident-principal.entity';
import { IncidentNotFoundError } from '../incident.errors';
import type { BlastRadiusScope } from './blast-radius.types';

/** An incident and what the blast radius is computed for: its linked credentials and principals. */
export async function readIncidentScope(
  manager: EntityManager,
  incidentId: string,
): Promise<{ incident: Incident; scope: BlastRadiusScope }> {
  const incident = await manager.findOneBy(Incident, { id: incidentId });
  if (!incident) throw new IncidentNotFoundError();
  const credentials = await manager.find(IncidentCredential, {
    where: { incidentId },
    order: { linkedAt: 'ASC', credentialId: 'ASC' },
  });
  const principals = await manager.find(IncidentPrincipal, {
    where: { incidentId },
    order: { linkedAt: 'ASC', principalId: 'ASC' },
  });
  return {
    incident,
    scope: {
      incidentId,
      detectedAt: incident.detectedAt,
      credentialIds: credentials.map((c) => c.credentialId),
      principals: principals.map((p) => ({ type: p.principalType, id: p.principalId })),
    },
  };
}
