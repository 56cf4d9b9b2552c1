import { EntityManager, EntityTarget, FindOptionsWhere, ObjectLiteral } from 'typeorm';
import type { QueryDeepPartialEntity } from 'typeorm/query-builder/QueryPartialEntity';

/** One row's own values in a grouped update, and the key that picks its row. */
export interface RowChanges<E, K> {
  key: K;
  changes: QueryDeepPartialEntity<E>;
}

/**
 * Rows that each get values of their own, written with one UPDATE per distinct set of values: a
 * batch whose rows mostly agree (the same version number, the same next rotation) costs one
 * statement instead of one per row. `where` turns the keys of a group into its condition. Returns
 * the rows changed.
 */
export async function updateGrouped<E extends ObjectLiteral, K>(
  manager: EntityManager,
  target: EntityTarget<E>,
  rows: readonly RowChanges<E, K>[],
  where: (keys: K[]) => FindOptionsWhere<E>,
): Promise<number> {
  const groups = new Map<string, { changes: QueryDeepPartialEntity<E>; keys: K[] }>();
  for (const { key, changes } of rows) {
    const signature = JSON.stringify(changes, (_name, value: unknown) =>
      // SQL given as a function (`() => 'row_version + 1'`) groups by its text.
      typeof value === 'function' ? `sql:${String((value as () => string)())}` : value,
    );
    const group = groups.get(signature);
    if (group) group.keys.push(key);
    else groups.set(signature, { changes, keys: [key] });
  }
  let affected = 0;
  for (const { changes, keys } of groups.values()) {
    const result = await manager.update(target, where(keys), changes);
    affected += result.affected ?? 0;
  }
  return affected;
}
