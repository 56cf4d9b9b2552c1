import { Logger } from '@nestjs/common';
import { strictFn } from '../../../test/helpers/controller-app';
import type { KeyringService } from '../../crypto/keyring.service';
import { RetireSchedule } from './retire-schedule';
import type { RetirePass, VersionRetirer } from './version-retirer';

describe('RetireSchedule', () => {
  const INTERVAL_MS = 60_000;
  const retireDue = strictFn('VersionRetirer.retireDue');
  const isSealed = jest.fn(() => false);

  const schedule = (schedulerEnabled = true) =>
    new RetireSchedule(
      { retireDue } as unknown as VersionRetirer,
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
  });

  it('should retire once the sweep interval has passed, and not before', async () => {
    retireDue.mockResolvedValue({ retired: 2, failed: 1 });
    const sut = schedule();

    expect(sut.tick(Date.now() + INTERVAL_MS - 1000)).toBeNull();

    await expect(sut.tick(Date.now() + INTERVAL_MS)).resolves.toEqual({ retired: 2, failed: 1 });
    expect(retireDue).toHaveBeenCalledTimes(1);
  });

  it('should not start a second pass while one is under way (a target may be slow)', async () => {
    let finish!: (pass: RetirePass) => void;
    retireDue.mockReturnValue(new Promise((resolve) => (finish = resolve)));
    const sut = schedule();

    const first = sut.tick(Date.now() + INTERVAL_MS);
    expect(sut.tick(Date.now() + 10 * INTERVAL_MS)).toBeNull();
    finish({ retired: 0, failed: 0 });
    await first;

    expect(retireDue).toHaveBeenCalledTimes(1);
  });

  it('should never throw when a pass fails', async () => {
    retireDue.mockRejectedValue(new Error('database gone'));

    await expect(schedule().tick(Date.now() + INTERVAL_MS)).resolves.toEqual({
      retired: 0,
      failed: 0,
    });
  });

  it('should not run with the rotation scheduler off, nor while sealed', () => {
    expect(schedule(false).tick(Date.now() + INTERVAL_MS)).toBeNull();
    isSealed.mockReturnValue(true);
    expect(schedule().tick(Date.now() + INTERVAL_MS)).toBeNull();
    expect(retireDue).not.toHaveBeenCalled();
  });

  it('should start no pass once shutting down, and wait for the one under way', async () => {
    let finish!: (pass: RetirePass) => void;
    retireDue.mockReturnValue(new Promise((resolve) => (finish = resolve)));
    const sut = schedule();
    void sut.tick(Date.now() + INTERVAL_MS);

    let stopped = false;
    const stopping = sut.onApplicationShutdown().then(() => (stopped = true));
    expect(sut.tick(Date.now() + 10 * INTERVAL_MS)).toBeNull();
    await Promise.resolve();
    expect(stopped).toBe(false);
    finish({ retired: 0, failed: 0 });
    await stopping;
    expect(stopped).toBe(true);
  });
});
