import { createScratchSqlite, ScratchDatabase } from '../src/database/cli/scratch-database';
import { LeaseService } from '../src/database/lease.service';
import { scratchMariadb, startApp, TestApp } from './helpers/test-app';

/** Two instances' lease services on one database: the lease is one instance's at a time. */
describe.each([
  ['MariaDB', scratchMariadb],
  ['SQLite', () => Promise.resolve(createScratchSqlite())],
] as const)('Leases (%s)', (_name, scratch) => {
  let database: ScratchDatabase;
  let sut: TestApp;
  let a: LeaseService;
  let b: LeaseService;

  beforeAll(async () => {
    database = await scratch();
    sut = await startApp(database, { env: { AUDIT_SINKS: 'none' } });
    a = sut.app.get(LeaseService);
    // A second instance: its own holder name, the same database.
    b = new LeaseService(Reflect.get(a, 'dataSource') as never);
  });

  afterAll(async () => {
    await sut?.close();
    await database?.drop();
  });

  it('should give a new lease to the first asker only, and renew it for its holder', async () => {
    expect(await a.acquire('test-lease', 60_000)).toBe(true);
    expect(await b.acquire('test-lease', 60_000)).toBe(false);
    expect(await a.acquire('test-lease', 60_000)).toBe(true);
  });

  it('should give an expired lease to another instance, and a released one at once', async () => {
    expect(await b.acquire('short-lease', 1)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await a.acquire('short-lease', 60_000)).toBe(true);
    expect(await b.acquire('short-lease', 60_000)).toBe(false);
    await a.release('short-lease');
    expect(await b.acquire('short-lease', 60_000)).toBe(true);
  });

  it('should give a lease to exactly one of many instances asking at once', async () => {
    const instances = Array.from(
      { length: 8 },
      () => new LeaseService(Reflect.get(a, 'dataSource') as never),
    );
    const answers = await Promise.all(
      instances.map((lease) => lease.acquire('raced-lease', 60_000)),
    );
    expect(answers.filter(Boolean)).toHaveLength(1);
  });
});
