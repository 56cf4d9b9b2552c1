import { strictFn } from '../../test/helpers/controller-app';
import type { KeyringService } from '../crypto/keyring.service';
import type { TransactionRunner } from '../database/transaction-runner';
import { AuditCheckpointer } from './audit-checkpointer';
import type { AuditSigningKeys } from './audit-signing-keys';
import type { AuditWriter } from './audit-writer';
import type { AuditOutbox } from './outbox/audit-outbox';

describe('AuditCheckpointer', () => {
  const INTERVAL_MS = 60_000;
  let sut: AuditCheckpointer;
  let recorded: (count: number) => void;
  let checkpoint: jest.SpyInstance;

  beforeEach(() => {
    const writer = {
      onRecorded: (listener: (count: number) => void) => (recorded = listener),
    };
    sut = new AuditCheckpointer(
      { run: strictFn('TransactionRunner.run') } as unknown as TransactionRunner,
      { isSealed: strictFn('KeyringService.isSealed') } as unknown as KeyringService,
      { current: strictFn('AuditSigningKeys.current') } as unknown as AuditSigningKeys,
      { enqueue: strictFn('AuditOutbox.enqueue') } as unknown as AuditOutbox,
      writer as unknown as AuditWriter,
      { checkpointIntervalMs: INTERVAL_MS, checkpointEveryEvents: 100 } as never,
    );
    checkpoint = jest.spyOn(sut, 'checkpoint').mockResolvedValue(null);
  });

  it('should not checkpoint on a tick before the configured interval has passed', () => {
    expect(sut.tick(Date.now() + INTERVAL_MS - 1000)).toBeNull();
    expect(checkpoint).not.toHaveBeenCalled();
  });

  it('should checkpoint on the first tick once the interval has passed', async () => {
    await sut.tick(Date.now() + INTERVAL_MS);
    expect(checkpoint).toHaveBeenCalledTimes(1);
  });

  it('should checkpoint after the configured number of events, whatever the clock', () => {
    recorded(99);
    expect(checkpoint).not.toHaveBeenCalled();
    recorded(1);
    expect(checkpoint).toHaveBeenCalledTimes(1);
  });
});
