import { WindowThrottlerStorage } from './window-throttler-storage';

const TTL = 60_000;
/** A window boundary, so tests know where in the window they are. */
const T0 = 1_800_000_000_000 - (1_800_000_000_000 % TTL);

describe('WindowThrottlerStorage', () => {
  let now: number;
  let sut: WindowThrottlerStorage;

  beforeEach(() => {
    now = T0;
    sut = new WindowThrottlerStorage(() => now);
  });

  const hit = (key = 'ip-1', limit = 3, blockDuration = TTL) =>
    sut.increment(key, TTL, limit, blockDuration, 'default');

  it('should let a client through up to the limit and count its hits', async () => {
    await expect(hit()).resolves.toMatchObject({ totalHits: 1, isBlocked: false });
    await expect(hit()).resolves.toMatchObject({ totalHits: 2, isBlocked: false });
    await expect(hit()).resolves.toEqual({
      totalHits: 3,
      timeToExpire: 60,
      isBlocked: false,
      timeToBlockExpire: 0,
    });
  });

  it('should refuse the hit over the limit and block the client for the block duration', async () => {
    for (let i = 0; i < 3; i++) await hit();

    await expect(hit()).resolves.toMatchObject({ isBlocked: true, timeToBlockExpire: 60 });
    now += 30_000;
    await expect(hit()).resolves.toMatchObject({ isBlocked: true, timeToBlockExpire: 30 });
  });

  it('should count clients apart', async () => {
    for (let i = 0; i < 3; i++) await hit('ip-1');

    await expect(hit('ip-2')).resolves.toMatchObject({ totalHits: 1, isBlocked: false });
    await expect(hit('ip-1')).resolves.toMatchObject({ isBlocked: true });
  });

  it('should let a blocked client start again from zero once the block is over', async () => {
    for (let i = 0; i < 4; i++) await hit();
    now += TTL + 1;

    await expect(hit()).resolves.toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('should weigh the previous window by how much of it the last ttl still covers', async () => {
    for (let i = 0; i < 10; i++) await hit('ip-1', 100);
    now = T0 + TTL + TTL / 4; // a quarter into the next window: 3/4 of the last one still counts

    await expect(hit('ip-1', 100)).resolves.toMatchObject({ totalHits: 1 + 8 }); // 7.5, rounded up
    now = T0 + TTL + (3 * TTL) / 4;
    await expect(hit('ip-1', 100)).resolves.toMatchObject({ totalHits: 2 + 3 }); // 2.5, rounded up
  });

  it('should not let a client double its rate across a window boundary', async () => {
    now = T0 + TTL - 1_000;
    for (let i = 0; i < 3; i++) await expect(hit()).resolves.toMatchObject({ isBlocked: false });
    now = T0 + TTL + 1_000; // a fixed window would start again from zero here

    await expect(hit()).resolves.toMatchObject({ isBlocked: true });
  });

  it('should forget a window that lies two windows back', async () => {
    for (let i = 0; i < 3; i++) await hit();
    now = T0 + 2 * TTL;

    await expect(hit()).resolves.toMatchObject({ totalHits: 1, isBlocked: false });
  });

  it('should say how long until the running window ends', async () => {
    now = T0 + 45_500;

    await expect(hit()).resolves.toMatchObject({ timeToExpire: 15 });
  });

  it('should refuse without blocking, and without counting, when there is no block duration', async () => {
    for (let i = 0; i < 3; i++) await hit('ip-1', 3, 0);

    await expect(hit('ip-1', 3, 0)).resolves.toMatchObject({ isBlocked: true, totalHits: 4 });
    await expect(hit('ip-1', 3, 0)).resolves.toMatchObject({ isBlocked: true, totalHits: 4 });
    now = T0 + 2 * TTL;
    await expect(hit('ip-1', 3, 0)).resolves.toMatchObject({ isBlocked: false, totalHits: 1 });
  });

  it('should keep limits of different lengths apart', async () => {
    for (let i = 0; i < 3; i++) await hit('ip-1');

    await expect(sut.increment('ip-1', 1_000, 3, 1_000, 'burst')).resolves.toMatchObject({
      totalHits: 1,
      isBlocked: false,
    });
  });

  it('should hold memory for recent clients only, however many came before', async () => {
    for (let i = 0; i < 50_000; i++) await hit(`ip-${i}`, 1);
    for (let i = 0; i < 1_000; i++) await hit(`ip-${i}`, 1); // these get blocked
    expect(sut.size).toBe(51_000);

    now = T0 + 2 * TTL + 1;
    await hit('ip-late');

    expect(sut.size).toBe(1);
  });

  it('should keep one count per client, not one entry per hit', async () => {
    // The built-in store keeps every hit time of the window and filters them on every request.
    for (let i = 0; i < 100_000; i++) await hit('busy', Number.MAX_SAFE_INTEGER);

    expect(sut.size).toBe(1);
    await expect(hit('busy', Number.MAX_SAFE_INTEGER)).resolves.toMatchObject({
      totalHits: 100_001,
    });
  });
});
