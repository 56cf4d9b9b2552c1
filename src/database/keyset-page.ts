import { EntityManager, EntityTarget, FindOptionsWhere, MoreThan, ObjectLiteral } from 'typeorm';
import type { PageCursor } from '../common/pagination/page-cursor';

export interface KeysetPage<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * One page of `entity` ordered by the unique string column `key`, after the row a cursor names:
 * one row more than asked says whether there is a next page, without a count. `scope` keeps only
 * some rows (a condition on other columns than `key`).
 */
export async function keysetPage<T extends ObjectLiteral>(
  manager: EntityManager,
  entity: EntityTarget<T>,
  key: keyof T & string,
  cursors: PageCursor,
  page: { limit: number; cursor?: string },
  scope: FindOptionsWhere<T> = {},
): Promise<KeysetPage<T>> {
  const after = cursors.decode(page.cursor);
  const rows = await manager.find(entity, {
    where: { ...scope, ...(after === undefined ? {} : { [key]: MoreThan(after) }) },
    order: { [key]: 'ASC' } as never,
    take: page.limit + 1,
  });
  const items = rows.slice(0, page.limit);
  const last = items[items.length - 1];
  return {
    items,
    nextCursor: rows.length > page.limit ? cursors.encode(String(last[key])) : null,
  };
}
