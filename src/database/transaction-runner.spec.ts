import { DataSource } from 'typeorm';
import { TransactionRunner } from './transaction-runner';

/** On the embedded SQLite database (in memory): one connection, units of work queued. */
describe('TransactionRunner on SQLite', () => {
  let dataSource: DataSource;
  let runner: TransactionRunner;

  beforeAll(async () => {
    dataSource = await new DataSource({ type: 'better-sqlite3', database: ':memory:' }).initialize();
    await dataSource.query('CREATE TABLE t (n INTEGER NOT NULL)');
    runner = new TransactionRunner(dataSource);
  });

  afterAll(() => dataSource.destroy());

  beforeEach(() => dataSource.query('DELETE FROM t'));

  it('should run concurrent units one after the other, each committing as a whole', async () => {
    const order: string[] = [];
    await Promise.all(
      [1, 2, 3].map((n) =>
        runner.run(async (manager) => {
          order.push(`start ${n}`);
          await manager.query('INSERT INTO t (n) VALUES (?)', [n]);
          await new Promise((resolve) => setTimeout(resolve, 5));
          order.push(`end ${n}`);
        }),
      ),
    );

    expect(order).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
    expect(await dataSource.query('SELECT n FROM t ORDER BY n')).toEqual([
      { n: 1 },
      { n: 2 },
      { n: 3 },
    ]);
  });

  it('should refuse a unit queued from inside another, and roll the outer back, instead of hanging', async () => {
    const nested = runner.run(async (manager) => {
      await manager.query('INSERT INTO t (n) VALUES (1)');
      await runner.read((inner) => inner.query('SELECT COUNT(*) AS c FROM t'));
    });

    await expect(nested).rejects.toThrow(/would wait for itself/);
    expect(await dataSource.query('SELECT COUNT(*) AS c FROM t')).toEqual([{ c: 0 }]);
    // The queue goes on.
    await runner.alone((manager) => manager.query('INSERT INTO t (n) VALUES (2)'));
    expect(await dataSource.query('SELECT n FROM t')).toEqual([{ n: 2 }]);
  });

  it('should let a timer started inside a unit queue its own once the unit has ended', async () => {
    let later: Promise<unknown> | undefined;
    await runner.run(async (manager) => {
      await manager.query('INSERT INTO t (n) VALUES (1)');
      later = new Promise((resolve) => setTimeout(resolve, 10)).then(() =>
        runner.run((inner) => inner.query('INSERT INTO t (n) VALUES (2)')),
      );
    });

    await later;
    expect(await dataSource.query('SELECT n FROM t ORDER BY n')).toEqual([{ n: 1 }, { n: 2 }]);
  });
});
