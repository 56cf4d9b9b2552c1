import { strictFn } from '../../../test/helpers/controller-app';
import type { DataSource } from 'typeorm';
import type { LeaseService } from '../../database/lease.service';
import type { TransactionRunner } from '../../database/transaction-runner';
import type { AuditMetrics } from '../audit-metrics';
import { OutboxRelay } from './outbox-relay';

describe('OutboxRelay', () => {
  const INTERVAL_MS = 1000;
  const relay = (sinks: string[]) =>
    new OutboxRelay(
      { query: strictFn('DataSource.query') } as unknown as DataSource,
      { run: strictFn('TransactionRunner.run') } as unknown as TransactionRunner,
      { acquire: strictFn('LeaseService.acquire') } as unknown as LeaseService,
      {} as AuditMetrics,
      { sinks, relayIntervalMs: INTERVAL_MS, filePath: '/dev/null' } as never,
    );

  it('should relay on the schedule once the configured interval has passed, and not before', async () => {
    const sut = relay(['stdout']);
    const tick = jest.spyOn(sut, 'tick').mockResolvedValue();

    await sut.scheduledTick(10_000);
    expect(sut.scheduledTick(10_000 + INTERVAL_MS - 1)).toBeNull();
    await sut.scheduledTick(10_000 + INTERVAL_MS);

    expect(tick).toHaveBeenCalledTimes(2);
  });

  it('should not relay without a sink', () => {
    const sut = relay([]);
    const tick = jest.spyOn(sut, 'tick').mockResolvedValue();

    expect(sut.scheduledTick(10_000)).toBeNull();
    expect(tick).not.toHaveBeenCalled();
  });

  it('should start no pass once shutting down, and wait for the one under way', async () => {
    const sut = relay(['stdout']);
    let finish!: () => void;
    jest.spyOn(sut, 'tick').mockImplementation(() => {
      const pass = new Promise<void>((resolve) => (finish = resolve));
      (sut as unknown as { running?: Promise<void> }).running = pass;
      return pass;
    });
    void sut.scheduledTick(10_000);

    let stopped = false;
    const stopping = sut.onApplicationShutdown().then(() => (stopped = true));
    expect(sut.scheduledTick(10_000 + 10 * INTERVAL_MS)).toBeNull();
    await Promise.resolve();
    expect(stopped).toBe(false);
    finish();
    await stopping;
    expect(stopped).toBe(true);
  });

  it('should follow a pass under way with one more, shared by the callers that came during it', async () => {
    const sut = relay(['stdout']);
    const finishers: (() => void)[] = [];
    const relayAll = jest
      .spyOn(sut as unknown as { relayAll(): Promise<void> }, 'relayAll')
      .mockImplementation(() => new Promise<void>((resolve) => finishers.push(resolve)));

    const first = sut.tick();
    // These may have committed after the first pass read the outbox: a pass of their own.
    const second = sut.tick();
    const third = sut.tick();
    expect(relayAll).toHaveBeenCalledTimes(1);
    expect(third).toBe(second);

    finishers[0]();
    await first;
    await new Promise(setImmediate);
    expect(relayAll).toHaveBeenCalledTimes(2);
    finishers[1]();
    await second;
    expect(relayAll).toHaveBeenCalledTimes(2);
  });
});
