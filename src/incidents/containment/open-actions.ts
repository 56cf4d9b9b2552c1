import { EntityManager, In } from 'typeorm';
import { Credential } from '../../credentials/entities/credential.entity';
import { CredentialVersion } from '../../credentials/entities/credential-version.entity';
import { IncidentCredential } from '../entities/incident-credential.entity';
import { containmentRecordOf } from './containment-record';

/** Something containment could not do by itself and a person still must (issue 12). */
export interface IncidentOpenAction {
  credentialId: string;
  path: string;
  /** The only kind so far: no automatic rotator, so a person writes the new value. */
  action: 'rotate_manually';
  description: string;
  /** The waiting manual emergency run that the new value finishes. */
  runId: string | null;
  /** Since when: the containment that marked it; the value in use then is the exposed one. */
  since: Date;
}

/**
 * The linked credentials that containment marked must-rotate and that have had no new value
 * since: their current version is still one from before that containment. A rotation by any route
 * (the waiting manual run finished by `PUT …/secret`, an automatic rotation) clears the action.
 * Read in the caller's transaction.
 */
export async function openActionsOf(
  manager: EntityManager,
  incidentId: string,
): Promise<IncidentOpenAction[]> {
  const record = await containmentRecordOf(manager, incidentId);
  const linked = await manager.find(IncidentCredential, {
    select: { credentialId: true },
    where: { incidentId },
    order: { linkedAt: 'ASC', credentialId: 'ASC' },
  });
  const marked = linked.flatMap((link) => {
    const contained = record.get(link.credentialId);
    return contained?.containment === 'must_rotate' ? [contained] : [];
  });
  if (marked.length === 0) return [];
  const credentials = await manager.find(Credential, {
    select: { id: true, path: true, currentVersion: true, status: true },
    where: { id: In(marked.map((c) => c.credentialId)) },
  });
  const currents = await manager.find(CredentialVersion, {
    select: { credentialId: true, version: true, createdAt: true },
    where: credentials.map((c) => ({ credentialId: c.id, version: c.currentVersion })),
  });
  const byId = new Map(credentials.map((c) => [c.id, c]));
  const currentSince = new Map(currents.map((v) => [v.credentialId, v.createdAt]));
  const actions: IncidentOpenAction[] = [];
  for (const contained of marked) {
    const credential = byId.get(contained.credentialId);
    // Crypto-shredded: no value is left to be exposed.
    if (!credential || credential.status === 'destroyed') continue;
    const createdAt = currentSince.get(credential.id);
    if (createdAt && createdAt.getTime() > contained.at.getTime()) continue;
    actions.push({
      credentialId: credential.id,
      path: credential.path,
      action: 'rotate_manually',
      description:
        `${credential.path} has no automatic rotator: change it where it is used and write the ` +
        `new value with PUT /api/v1/credentials/${credential.id}/secret`,
      runId: contained.runId,
      since: contained.at,
    });
  }
  return actions;
}
