import { Logger } from '@nestjs/common';
import { strictFn } from '../../../test/helpers/controller-app';
import type { KeyringService } from '../../crypto/keyring.service';
import type { AdoptionWatch } from '../adoption/adoption-watch';
import type { ExpiryWatch } from './expiry-watch';
import type { GraceSweeper } from './grace-sweeper';
import { SweepSchedule } from './sweep-schedule';

describe('SweepSchedule', () => {
  const INTERVAL_MS = 60_000;
  const sweep = strictFn('GraceSweeper.sweep');
  const watch = strictFn('ExpiryWatch.watch');
  const adopt = strictFn('AdoptionWatch.watch');
  const isSealed = jest.fn(() => false);

  const schedule = (schedulerEnabled = true) =>
    new SweepSchedule(
      { sweep } as unknown as GraceSweeper,
      { watch } as unknown as ExpiryWatch,
      { watch: adopt } as unknown as AdoptionWatch,
      { isSealed } as unknown as KeyringService,
      { schedulerEnabled, sweepIntervalMs: INTERVAL_MS } as never,
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
    adopt.mockResolvedValue({ graceEnded: 0, warned: 0 });
  });

  it('should sweep and watch once the configured interval has passed, and not before', async () => {
    sweep.mockResolvedValue({ revoked: 2, destroyed: 1 });
    watch.mockResolvedValue(3);
    const sut = schedule();

    expect(sut.tick(Date.now() + INTERVAL_MS - 1000)).toBeNull();
    const pass = await sut.tick(Date.now() + INTERVAL_MS);

    expect(pass).toEqual({
      revoked: 2,
      destroyed: 1,
      expiring: 3,
      graceEnded: 0,
      adoptionWarned: 0,
    });
    expect(sweep).toHaveBeenCalledTimes(1);
    expect(watch).toHaveBeenCalledTimes(1);
  });

  it('should not start a second pass while one is under way', async () => {
    let finish!: (value: { revoked: number; destroyed: number }) => void;
    sweep.mockReturnValue(new Promise((resolve) => (finish = resolve)));
    watch.mockResolvedValue(0);
    const sut = schedule();

    const first = sut.tick(Date.now() + INTERVAL_MS);
    expect(sut.tick(Date.now() + 10 * INTERVAL_MS)).toBeNull();
    finish({ revoked: 0, destroyed: 0 });
    await first;

    expect(sweep).toHaveBeenCalledTimes(1);
  });

  it('should still watch expiries when the grace sweep fails, and never throw', async () => {
    sweep.mockRejectedValue(new Error('deadlock'));
    watch.mockResolvedValue(1);
    const sut = schedule();

    await expect(sut.tick(Date.now() + INTERVAL_MS)).resolves.toEqual({
      revoked: 0,
      destroyed: 0,
      expiring: 1,
      graceEnded: 0,
      adoptionWarned: 0,
    });
  });

  it('should watch adoption before sweeping, so a grace it ends is revoked in the same pass', async () => {
    const order: string[] = [];
    adopt.mockImplementation(() => {
      order.push('adoption');
      return Promise.resolve({ graceEnded: 1, warned: 2 });
    });
    sweep.mockImplementation(() => {
      order.push('sweep');
      return Promise.resolve({ revoked: 1, destroyed: 0 });
    });
    watch.mockResolvedValue(0);

    const pass = await schedule().tick(Date.now() + INTERVAL_MS);

    expect(order).toEqual(['adoption', 'sweep']);
    expect(pass).toMatchObject({ revoked: 1, graceEnded: 1, adoptionWarned: 2 });
  });

  it('should still sweep when the adoption watch fails', async () => {
    adopt.mockRejectedValue(new Error('audit query failed'));
    sweep.mockResolvedValue({ revoked: 1, destroyed: 0 });
    watch.mockResolvedValue(0);

    await expect(schedule().tick(Date.now() + INTERVAL_MS)).resolves.toMatchObject({
      revoked: 1,
      graceEnded: 0,
    });
  });

  it('should not run with the rotation scheduler off', () => {
    expect(schedule(false).tick(Date.now() + INTERVAL_MS)).toBeNull();
  });

  it('should not run while sealed: no audit event could be written', () => {
    isSealed.mockReturnValue(true);

    expect(schedule().tick(Date.now() + INTERVAL_MS)).toBeNull();
    expect(sweep).not.toHaveBeenCalled();
  });

  it('should start no pass once shutting down, and wait for the one under way', async () => {
    let finish!: (value: { revoked: number; destroyed: number }) => void;
    sweep.mockReturnValue(new Promise((resolve) => (finish = resolve)));
    watch.mockResolvedValue(0);
    const sut = schedule();
    void sut.tick(Date.now() + INTERVAL_MS);

    let stopped = false;
    const stopping = sut.onApplicationShutdown().then(() => (stopped = true));
    expect(sut.tick(Date.now() + 10 * INTERVAL_MS)).toBeNull();
    await Promise.resolve();
    expect(stopped).toBe(false);
    finish({ revoked: 0, destroyed: 0 });
    await stopping;
    expect(stopped).toBe(true);
  });
});
