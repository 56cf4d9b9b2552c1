import { Logger } from '@nestjs/common';
import { strictFn } from '../../test/helpers/controller-app';
import type { KeyringService } from '../crypto/keyring.service';
import type { LeaseService } from '../database/lease.service';
import type { TransactionRunner } from '../database/transaction-runner';
import type { CredentialMetrics } from './credential-metrics';
import { FingerprintBackfill } from './fingerprint-backfill';
import { backfillBatch } from './fingerprint-backfill-batch';
import type { VersionCrypto } from './version-crypto';

jest.mock('./fingerprint-backfill-batch', () => ({ backfillBatch: jest.fn() }));

describe('FingerprintBackfill', () => {
  const INTERVAL_MS = 60_000;
  const query = strictFn('EntityManager.query');
  const acquire = strictFn('LeaseService.acquire');
  const release = strictFn('LeaseService.release');
  const inc = strictFn('Counter.inc');
  const isSealed = jest.fn(() => false);
  const batch = backfillBatch as jest.Mock;
  const manager = {};

  const backfill = () =>
    new FingerprintBackfill(
      {
        run: (work: (m: unknown) => Promise<unknown>) => work(manager),
        read: (work: (m: unknown) => Promise<unknown>) => work({ query }),
      } as unknown as TransactionRunner,
      { acquire, release } as unknown as LeaseService,
      { isSealed } as unknown as KeyringService,
      {} as VersionCrypto,
      { fingerprintBackfill: { inc } } as unknown as CredentialMetrics,
      { rewrapBatchSize: 2 } as never,
    );

  beforeAll(() => {
    Logger.overrideLogger(false);
  });
  afterAll(() => {
    Logger.overrideLogger(['log', 'error', 'warn', 'debug', 'verbose']);
  });

  beforeEach(() => {
    jest.resetAllMocks();
    isSealed.mockReturnValue(false);
    release.mockResolvedValue(undefined);
    inc.mockReturnValue(undefined);
  });

  it('should stop looking once a pass finds the list empty, at one read', async () => {
    query.mockResolvedValue([]);
    const sut = backfill();

    await expect(sut.tick(Date.now())).resolves.toEqual({ filled: 0, gone: 0, failed: 0 });

    expect(sut.tick(Date.now() + 10 * INTERVAL_MS)).toBeNull();
    expect(query).toHaveBeenCalledTimes(1);
    expect(batch).not.toHaveBeenCalled();
  });

  it('should do nothing while sealed, or before the interval has passed since the last pass', async () => {
    isSealed.mockReturnValue(true);
    const sut = backfill();
    expect(sut.tick(Date.now())).toBeNull();

    isSealed.mockReturnValue(false);
    query.mockResolvedValue([{ credential_id: 'c' }]);
    acquire.mockResolvedValue(false);
    const now = Date.now();
    await sut.tick(now);
    expect(sut.tick(now + INTERVAL_MS - 1)).toBeNull();
    expect(query).toHaveBeenCalledTimes(1);
  });

  it('should run batches under the lease until the list is done, counting what they did', async () => {
    query.mockResolvedValue([{ credential_id: 'c' }]);
    acquire.mockResolvedValue(true);
    batch
      .mockResolvedValueOnce({
        filled: 2,
        gone: 0,
        failed: [],
        last: { credentialId: 'c', version: 2 },
      })
      .mockResolvedValueOnce({
        filled: 0,
        gone: 1,
        failed: [{ credentialId: 'd', version: 1 }],
        last: { credentialId: 'd', version: 2 },
      })
      .mockResolvedValueOnce({ filled: 0, gone: 0, failed: [], last: null });
    const sut = backfill();

    await expect(sut.run()).resolves.toEqual({ filled: 2, gone: 1, failed: 1 });

    expect(batch.mock.calls.map((call: unknown[]) => call[2])).toEqual([
      null,
      { credentialId: 'c', version: 2 },
      { credentialId: 'd', version: 2 },
    ]);
    expect(batch.mock.calls.every((call: unknown[]) => call[0] === manager && call[3] === 2)).toBe(
      true,
    );
    expect(inc.mock.calls).toEqual([
      [{ outcome: 'filled' }, 2],
      [{ outcome: 'gone' }, 1],
      [{ outcome: 'failed' }, 1],
    ]);
    expect(release).toHaveBeenCalledWith('fingerprint-backfill');
    // A version left listed (its key not held here) is looked at again by a later pass.
    expect(sut.tick(Date.now() + 2 * INTERVAL_MS)).not.toBeNull();
  });

  it('should leave the work to the instance that holds the lease', async () => {
    query.mockResolvedValue([{ credential_id: 'c' }]);
    acquire.mockResolvedValue(false);

    await expect(backfill().run()).resolves.toEqual({ filled: 0, gone: 0, failed: 0 });

    expect(batch).not.toHaveBeenCalled();
    expect(release).not.toHaveBeenCalled();
  });

  it('should never throw when a batch fails, and give the lease back', async () => {
    query.mockResolvedValue([{ credential_id: 'c' }]);
    acquire.mockResolvedValue(true);
    batch.mockRejectedValue(new Error('deadlock, retries exhausted'));

    await expect(backfill().run()).resolves.toEqual({ filled: 0, gone: 0, failed: 0 });

    expect(release).toHaveBeenCalledWith('fingerprint-backfill');
  });

  it('should join the pass under way instead of starting a second one', async () => {
    let answer!: (rows: unknown[]) => void;
    query.mockReturnValue(new Promise((resolve) => (answer = resolve)));
    const sut = backfill();

    const first = sut.run();
    const second = sut.run();
    answer([]);

    expect(await first).toEqual(await second);
    expect(query).toHaveBeenCalledTimes(1);
  });
});
