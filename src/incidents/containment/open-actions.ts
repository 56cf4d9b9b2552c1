import { EntityManager, In } from 'typeorm';
import { Credential } from '../../credentials/entities/credential.entity';
import { CredentialVersion } from '../../credentials/entities/credential-version.entity';
import { IncidentCredential } from '../entities/incident-credential.entity';
import { containmentRecordOf, CredentialContained } from './containment-record';

/** Something containment could not do by itself and a person still must (issue 12). */
export interface IncidentOpenAction {
  credentialId: string;
  path: string;
  /**
   * `rotate_manually`: no automatic rotator, so a person writes the new value. `contain_again`:
   * the emergency rotation failed, so the exposed value is still in use until containment runs
   * again (or a person rotates it).
   */
  action: 'rotate_manually' | 'contain_again';
  description: string;
  /** The manual emergency run the new value finishes, or the emergency run that failed. */
  runId: string | null;
  /** Since when: the containment that marked it; the value in use then is the exposed one. */
  since: Date;
}

/**
 * The linked credentials that containment marked must-rotate, or whose emergency rotation failed,
 * and that have had no new value since: their current version is still one from before that
 * containment. A rotation by any route (the waiting manual run finished by `PUT …/secret`, an
 * automatic rotation, containing again) clears the action. Read in the caller's transaction.
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
    return contained && needsAPerson(contained) ? [contained] : [];
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
    const manual = contained.containment === 'must_rotate';
    actions.push({
      credentialId: credential.id,
      path: credential.path,
      action: manual ? 'rotate_manually' : 'contain_again',
      description: manual
        ? `${credential.path} has no automatic rotator: change it where it is used and write the ` +
          `new value with PUT /api/v1/credentials/${credential.id}/secret`
        : `the emergency rotation of ${credential.path} failed (run ${contained.runId}): contain ` +
          `the incident again to start a new one, or rotate it by hand`,
      runId: contained.runId,
      since: contained.at,
    });
  }
  return actions;
}

function needsAPerson(contained: CredentialContained): boolean {
  if (contained.containment === 'must_rotate') return true;
  // A run still going or succeeded handles it; one that is gone (pruned) says nothing either way.
  return contained.runStatus === 'failed';
}
