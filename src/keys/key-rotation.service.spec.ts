import { strictFn } from '../../test/helpers/controller-app';
import type { AuditWriter } from '../audit/audit-writer';
import type { KeyRewrapRegistry } from '../crypto/key-rewrap.registry';
import type { KeyringService } from '../crypto/keyring.service';
import type { LeaseService } from '../database/lease.service';
import type { TransactionRunner } from '../database/transaction-runner';
import type { KeyMetrics } from './key-metrics';
import { KeyRotationService, REWRAP_RETRY_MS } from './key-rotation.service';

/** Lets the promise chains of a background start() settle. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('KeyRotationService', () => {
  const acquire = jest.fn<Promise<boolean>, [string, number]>();
  /** Items still under the retired key k1, while k2 is active. */
  let remaining = 5;

  const sut = () => {
    const manager = {
      find: () =>
        Promise.resolve([
          { id: 'k1', status: 'retired' },
          { id: 'k2', status: 'active' },
        ]),
    };
    const participant = {
      name: 'secretVersions',
      countByKey: () => Promise.resolve({ k1: remaining }),
      rewrapBatch: strictFn('participant.rewrapBatch'),
    };
    return new KeyRotationService(
      { isSealed: () => false } as unknown as KeyringService,
      { participants: () => [participant] } as unknown as KeyRewrapRegistry,
      { run: (work: (m: unknown) => unknown) => work(manager) } as unknown as TransactionRunner,
      { acquire, release: strictFn('LeaseService.release') } as unknown as LeaseService,
      { record: strictFn('AuditWriter.record') } as unknown as AuditWriter,
      { remaining: { set: jest.fn() }, rewrapped: { inc: jest.fn() } } as unknown as KeyMetrics,
      { rewrapBatchSize: 200 } as never,
    );
  };

  beforeEach(() => {
    acquire.mockReset();
    remaining = 5;
  });

  it('should try again on the schedule, REWRAP_RETRY_MS after another instance held the lease', async () => {
    acquire.mockResolvedValue(false);
    const service = sut();
    const started = Date.now();
    service.start();
    await settle();
    expect(acquire).toHaveBeenCalledTimes(1);

    expect(service.retryTick(started + REWRAP_RETRY_MS - 1000)).toBe(false);
    expect(service.retryTick(Date.now() + REWRAP_RETRY_MS)).toBe(true);
    await settle();

    expect(acquire).toHaveBeenCalledTimes(2);
  });

  it('should not retry when nothing is left under an old key', async () => {
    acquire.mockResolvedValue(false);
    const service = sut();
    remaining = 0;
    service.start();
    await settle();

    expect(service.retryTick(Date.now() + 10 * REWRAP_RETRY_MS)).toBe(false);
  });

  it('should not retry without a start, nor once shutting down', async () => {
    acquire.mockResolvedValue(false);
    const service = sut();
    expect(service.retryTick(Date.now() + 10 * REWRAP_RETRY_MS)).toBe(false);

    service.start();
    await settle();
    await service.onApplicationShutdown();

    expect(service.retryTick(Date.now() + 10 * REWRAP_RETRY_MS)).toBe(false);
    expect(acquire).toHaveBeenCalledTimes(1);
  });
});
