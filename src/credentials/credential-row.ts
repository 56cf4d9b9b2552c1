import { EntityManager } from 'typeorm';
import { dialectOf, forUpdate, toDate, placeholders } from '../database/dialect';
import { Credential, JsonObject } from './entities/credential.entity';

/**
 * Every column of `credentials`, each under its entity property name, except `decoy`: rows read
 * here feed responses, and a decoy must look like any other credential.
 */
export const CREDENTIAL_COLUMNS: Readonly<Record<Exclude<keyof Credential, 'decoy'>, string>> = {
  id: 'id',
  path: 'path',
  name: 'name',
  type: 'type',
  description: 'description',
  username: 'username',
  url: 'url',
  host: 'host',
  port: 'port',
  owner: 'owner',
  metadata: 'metadata',
  secretInfo: 'secret_info',
  tags: 'tags',
  expiresAt: 'expires_at',
  status: 'status',
  currentVersion: 'current_version',
  lastVersion: 'last_version',
  rowVersion: 'row_version',
  createdBy: 'created_by',
  nextRotationAt: 'next_rotation_at',
  rotationStatus: 'rotation_status',
  expiryWarnedFor: 'expiry_warned_for',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  deletedAt: 'deleted_at',
  destroyedAt: 'destroyed_at',
};

/** `c.secret_info AS secretInfo, …`: the select list for rows that credentialFromRow() reads. */
export function credentialSelect(alias: string): string {
  return Object.entries(CREDENTIAL_COLUMNS)
    .map(([property, column]) => `${alias}.${column} AS ${property}`)
    .join(', ');
}

type Row = Record<keyof Credential, unknown>;

/**
 * One credential by id in plain SQL (the query builder cost more CPU than the statement), locked
 * for the transaction with `lock`; throws if there is none (rows are never deleted: tombstones).
 */
export async function credentialById(
  manager: EntityManager,
  id: string,
  lock = false,
): Promise<Credential> {
  const [row] = await manager.query<Row[]>(
    `SELECT ${credentialSelect('c')} FROM credentials c WHERE c.id = ?` +
      (lock ? forUpdate(dialectOf(manager)) : ''),
    [id],
  );
  if (!row) throw new Error(`credential ${id} not found`);
  return credentialFromRow(row);
}

/**
 * Several credentials by id, in id order; with `lock`, locked in that order, so two transactions
 * locking overlapping sets never wait on each other in a cycle. Ids with no row are left out.
 */
export async function credentialsByIds(
  manager: EntityManager,
  ids: readonly string[],
  lock = false,
): Promise<Credential[]> {
  if (ids.length === 0) return [];
  const rows = await manager.query<Row[]>(
    `SELECT ${credentialSelect('c')} FROM credentials c ` +
      `WHERE c.id IN (${placeholders(ids)}) ORDER BY c.id` +
      (lock ? forUpdate(dialectOf(manager)) : ''),
    [...ids],
  );
  return rows.map(credentialFromRow);
}

/**
 * A Credential from a plain-SQL row, converted as TypeORM would (simple-json, datetimes, ints),
 * for the list, where hydrating 50 entities through the query builder cost more CPU than the
 * two statements themselves.
 */
export function credentialFromRow(row: Row): Credential {
  return Object.assign(new Credential(), {
    id: row.id as string,
    path: row.path as string,
    name: row.name as string,
    type: row.type as Credential['type'],
    description: row.description as string | null,
    username: row.username as string | null,
    url: row.url as string | null,
    host: row.host as string | null,
    port: row.port === null ? null : Number(row.port),
    owner: row.owner as string | null,
    metadata: json(row.metadata),
    secretInfo: json(row.secretInfo),
    tags: row.tags as string,
    expiresAt: date(row.expiresAt),
    status: row.status as Credential['status'],
    currentVersion: Number(row.currentVersion),
    lastVersion: Number(row.lastVersion),
    rowVersion: Number(row.rowVersion),
    createdBy: row.createdBy as string | null,
    nextRotationAt: date(row.nextRotationAt),
    rotationStatus: row.rotationStatus as Credential['rotationStatus'],
    expiryWarnedFor: date(row.expiryWarnedFor),
    createdAt: date(row.createdAt)!,
    updatedAt: date(row.updatedAt)!,
    deletedAt: date(row.deletedAt),
    destroyedAt: date(row.destroyedAt),
  });
}

/** simple-json columns are text; mysql2 may hand a Buffer for long text. */
function json(value: unknown): JsonObject | null {
  if (typeof value !== 'string' && !Buffer.isBuffer(value)) return null;
  const text = value.toString();
  return text === '' ? null : (JSON.parse(text) as JsonObject);
}

function date(value: unknown): Date | null {
  return value === null || value === undefined ? null : toDate(value as Date | string);
}
