import { EntityManager, In } from 'typeorm';
import { updateGrouped } from './grouped-update';

type Row = { id?: string; version?: number; at?: Date; n?: number };

describe('updateGrouped', () => {
  function recorder() {
    const calls: { where: unknown; changes: unknown }[] = [];
    const manager = {
      update: jest.fn((_target: unknown, where: unknown, changes: unknown) => {
        calls.push({ where, changes });
        return Promise.resolve({
          affected: (where as { id: { value: string[] } }).id.value.length,
        });
      }),
    } as unknown as EntityManager;
    return { manager, calls };
  }

  it('should write rows with equal values in one statement and others in their own', async () => {
    const { manager, calls } = recorder();
    const at = new Date('2026-01-01T00:00:00Z');
    const affected = await updateGrouped<Row, string>(
      manager,
      'credentials',
      [
        { key: 'a', changes: { version: 2, at } },
        { key: 'b', changes: { version: 3, at } },
        { key: 'c', changes: { version: 2, at: new Date(at.getTime()) } },
      ],
      (ids) => ({ id: In(ids) }),
    );
    expect(affected).toBe(3);
    expect(calls).toEqual([
      { where: { id: In(['a', 'c']) }, changes: { version: 2, at } },
      { where: { id: In(['b']) }, changes: { version: 3, at } },
    ]);
  });

  it('should tell SQL expressions apart by their text', async () => {
    const { manager, calls } = recorder();
    await updateGrouped<Row, string>(
      manager,
      'credentials',
      [
        { key: 'a', changes: { n: () => 'n + 1' } },
        { key: 'b', changes: { n: () => 'n + 2' } },
        { key: 'c', changes: { n: () => 'n + 1' } },
      ],
      (ids) => ({ id: In(ids) }),
    );
    expect(calls.map((call) => call.where)).toEqual([{ id: In(['a', 'c']) }, { id: In(['b']) }]);
  });

  it('should send nothing for no rows', async () => {
    const { manager, calls } = recorder();
    expect(await updateGrouped<Row, string>(manager, 'x', [], (ids) => ({ id: In(ids) }))).toBe(0);
    expect(calls).toEqual([]);
  });
});
