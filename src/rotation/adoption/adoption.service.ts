import { Injectable } from '@nestjs/common';
import type { Principal } from '../../common/auth/principal';
import { CredentialAccess } from '../../credentials/credential-access';
import { TransactionRunner } from '../../database/transaction-runner';
import { RotationRunNotFoundError } from '../engine/rotation.errors';
import { RotationRun } from '../entities/rotation-run.entity';
import type { AdoptionReport, FinishedRotation } from './adoption-report';
import { AdoptionTracker } from './adoption-tracker';
import { RotationNotSucceededError } from './adoption.errors';

/** `GET /credentials/:id/rotations/:runId/adoption`: who has picked up a rotation's value. */
@Injectable()
export class AdoptionService {
  constructor(
    private readonly transactions: TransactionRunner,
    private readonly access: CredentialAccess,
    private readonly tracker: AdoptionTracker,
  ) {}

  async forRun(credentialId: string, runId: string, principal: Principal): Promise<AdoptionReport> {
    const rotation = await this.transactions.read(async (manager) => {
      // A deleted credential's rotations still happened: their adoption may still be asked for.
      await this.access.byId(manager, principal, credentialId, 'read', { includeDeleted: true });
      const run = await manager.findOneBy(RotationRun, { id: runId });
      if (!run || run.credentialId !== credentialId) throw new RotationRunNotFoundError();
      return finishedRotationOf(run);
    });
    return this.tracker.report(rotation);
  }
}

function finishedRotationOf(run: RotationRun): FinishedRotation {
  if (run.status !== 'succeeded' || run.pendingVersion === null || run.finishedAt === null) {
    throw new RotationNotSucceededError(run.status);
  }
  return {
    runId: run.id,
    credentialId: run.credentialId,
    version: run.pendingVersion,
    finishedAt: run.finishedAt,
  };
}
