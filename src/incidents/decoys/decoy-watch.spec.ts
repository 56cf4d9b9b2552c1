import { Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { strictFn } from '../../../test/helpers/controller-app';
import type { Principal } from '../../common/auth/principal';
import type { LeakScanConfig } from '../../config/leak-scan.config';
import type { IncidentRecorder } from '../incident-recorder';
import { DecoyWatch } from './decoy-watch';
import type { PrincipalSuspension } from '../../auth/principal-suspension';
import type { TransactionRunner } from '../../database/transaction-runner';

const USER: Principal = {
  type: 'user',
  id: '9c2d4e6f-8a0b-4c1d-9e2f-3a4b5c6d7e8f',
  email: 'mallory@example.com',
  role: 'operator',
  mustChangePassword: false,
  mfaEnabled: false,
};
const CREDENTIAL_ID = '5b1e6c2a-8d3f-4a7b-9c1d-2e3f4a5b6c7d';

describe('DecoyWatch', () => {
  let recorder: { openOrAdd: jest.Mock };
  let suspension: { suspendUser: jest.Mock; suspendServiceAccount: jest.Mock };
  const manager = {};
  const transactions = {
    run: (work: (m: unknown) => Promise<unknown>) => work(manager),
  };

  beforeAll(() => jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined));
  afterAll(() => jest.restoreAllMocks());

  beforeEach(() => {
    recorder = { openOrAdd: strictFn('IncidentRecorder.openOrAdd') };
    suspension = {
      suspendUser: strictFn('PrincipalSuspension.suspendUser'),
      suspendServiceAccount: strictFn('PrincipalSuspension.suspendServiceAccount'),
    };
  });

  function sut(config: Partial<LeakScanConfig> = {}): DecoyWatch {
    return new DecoyWatch(
      recorder as unknown as IncidentRecorder,
      suspension as unknown as PrincipalSuspension,
      transactions as unknown as TransactionRunner,
      {
        containByDefault: false,
        decoySuspendPrincipal: false,
        incidentWindowSeconds: 3600,
        ...config,
      },
    );
  }

  const reveal = {
    credentialId: CREDENTIAL_ID,
    path: 'acme/prod/backup-admin',
    version: 1,
    via: 'id' as const,
    principal: USER,
  };

  it('should open a decoy_access incident per principal and decoy, naming the principal', async () => {
    recorder.openOrAdd.mockResolvedValueOnce({ incident: { id: 'i1' }, opened: true });

    await sut().onDecoyReveal(manager as EntityManager, reveal);

    expect(recorder.openOrAdd).toHaveBeenCalledWith(
      expect.objectContaining({
        type: 'decoy_access',
        severity: 'critical',
        dedupeKey: `decoy_access:user:${USER.id}:${CREDENTIAL_ID}`,
        windowSeconds: 3600,
        credentialIds: [CREDENTIAL_ID],
        principals: [{ type: 'user', id: USER.id }],
        title: expect.stringContaining('mallory@example.com'),
      }),
      manager,
    );
    expect(suspension.suspendUser).not.toHaveBeenCalled();
  });

  it('should suspend the principal when configured to', async () => {
    recorder.openOrAdd.mockResolvedValueOnce({ incident: { id: 'i1' }, opened: false });
    suspension.suspendUser.mockResolvedValueOnce({ type: 'user', id: USER.id, suspended: true });

    await sut({ decoySuspendPrincipal: true }).onDecoyReveal(manager as EntityManager, reveal);

    expect(suspension.suspendUser).toHaveBeenCalledWith(
      manager,
      USER.id,
      'touched the decoy acme/prod/backup-admin',
      undefined,
    );
  });

  it('should record a decoy seen in a leak scan in a transaction of its own', async () => {
    const run = jest.spyOn(transactions, 'run');
    recorder.openOrAdd.mockResolvedValueOnce({ incident: { id: 'i1' }, opened: true });

    await sut().seen({ ...reveal, how: 'scan' });

    expect(run).toHaveBeenCalledTimes(1);
    expect(recorder.openOrAdd).toHaveBeenCalledWith(
      expect.objectContaining({
        title: expect.stringContaining('found in a leak scan'),
        detection: expect.objectContaining({ how: 'scan' }),
      }),
      manager,
    );
  });
});
