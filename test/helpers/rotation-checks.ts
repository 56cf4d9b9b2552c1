import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type Headers = Record<string, string>;

/** Runs SQL on the app's database (a DataSource's query, or a wrapped better-sqlite3 handle). */
export type Query = <T = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<T[]>;

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
}

/** One call to a running app over HTTP (a spawned process: no supertest). */
export async function call<T = Record<string, unknown>>(
  baseUrl: string,
  method: string,
  path: string,
  headers: Headers = {},
  body?: unknown,
): Promise<ApiResponse<T>> {
  const response = await fetch(`${baseUrl}/api/v1${path}`, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : {}) as T };
}

/** call() that insists on one status, saying what came instead. */
export async function expectCall<T = Record<string, unknown>>(
  status: number,
  ...args: Parameters<typeof call>
): Promise<T> {
  const response = await call<T>(...args);
  if (response.status !== status) {
    throw new Error(
      `${args[1]} ${args[2]}: expected ${status}, got ${response.status} ${JSON.stringify(response.body)}`,
    );
  }
  return response.body;
}

/**
 * The bootstrap admin of a spawned app (its first password is in the data directory, and must
 * be changed before anything else): logged in with a new password; the Authorization header.
 */
export async function bootstrapAdmin(baseUrl: string, dataDir: string): Promise<Headers> {
  const email = 'admin@localhost';
  const first = readFileSync(join(dataDir, 'initial-admin-password'), 'utf8').trim();
  const password = `Rot-${randomBytes(12).toString('base64url')}`;
  const login = async (attempt: string) => {
    const body = await expectCall<{ accessToken: string }>(
      200,
      baseUrl,
      'POST',
      '/auth/login',
      {},
      {
        email,
        password: attempt,
      },
    );
    return { authorization: `Bearer ${body.accessToken}` };
  };
  await expectCall(204, baseUrl, 'POST', '/auth/password', await login(first), {
    currentPassword: first,
    newPassword: password,
  });
  return login(password);
}

export async function until<T>(
  probe: () => Promise<T | undefined>,
  ms = 20_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Runs `work` over `items`, at most `width` at a time; results in order. */
export async function inParallel<T, R>(
  items: readonly T[],
  width: number,
  work: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, lane));
  return results;
}

/**
 * The version invariants of DESIGN.md §5, checked in SQL for every credential (or those given):
 * exactly one current version, which is the credential's current_version; at most one pending;
 * version numbers contiguous between the lowest and highest kept. Returns what is wrong.
 */
export async function versionViolations(query: Query, credentialIds?: string[]): Promise<string[]> {
  const rows = await query<{
    id: string;
    current_version: number;
    currents: number;
    pendings: number;
    current_of: number | null;
    lo: number;
    hi: number;
    n: number;
  }>(
    'SELECT c.id, c.current_version, ' +
      "SUM(CASE WHEN v.state = 'current' THEN 1 ELSE 0 END) AS currents, " +
      "SUM(CASE WHEN v.state = 'pending' THEN 1 ELSE 0 END) AS pendings, " +
      "MAX(CASE WHEN v.state = 'current' THEN v.version END) AS current_of, " +
      'MIN(v.version) AS lo, MAX(v.version) AS hi, COUNT(*) AS n ' +
      'FROM credentials c JOIN credential_versions v ON v.credential_id = c.id ' +
      'GROUP BY c.id, c.current_version',
  );
  const wanted = credentialIds ? new Set(credentialIds) : undefined;
  const problems: string[] = [];
  for (const row of rows) {
    if (wanted && !wanted.has(row.id)) continue;
    const [currents, pendings, lo, hi, n] = [row.currents, row.pendings, row.lo, row.hi, row.n].map(
      Number,
    );
    if (currents !== 1) problems.push(`${row.id}: ${currents} current versions`);
    if (pendings > 1) problems.push(`${row.id}: ${pendings} pending versions`);
    if (Number(row.current_of) !== Number(row.current_version)) {
      problems.push(`${row.id}: current_version ${row.current_version}, current ${row.current_of}`);
    }
    if (hi - lo + 1 !== n) problems.push(`${row.id}: versions ${lo}..${hi} with ${n} kept (a gap)`);
  }
  if (wanted) {
    const seen = new Set(rows.map((row) => row.id));
    for (const id of wanted) if (!seen.has(id)) problems.push(`${id}: no versions`);
  }
  return problems;
}

/** version → state of one credential. */
export async function versionStates(query: Query, id: string): Promise<Record<number, string>> {
  const rows = await query<{ version: number; state: string }>(
    'SELECT version, state FROM credential_versions WHERE credential_id = ? ORDER BY version',
    [id],
  );
  return Object.fromEntries(rows.map((row) => [Number(row.version), row.state]));
}

/** Audit actions of a credential's rotation runs (not its policy changes), in order. */
export async function rotationActions(query: Query, id: string): Promise<string[]> {
  const rows = await query<{ action: string }>(
    "SELECT action FROM audit_events WHERE resource_id = ? AND action LIKE 'rotation.%' " +
      "AND action NOT LIKE 'rotation.policy.%' ORDER BY seq",
    [id],
  );
  return rows.map((row) => row.action);
}

/** How many rows of `table` each credential has for `typeOrAction`, by credential id. */
export async function countsByCredential(
  query: Query,
  table: 'audit_events' | 'event_outbox',
  typeOrAction: string,
): Promise<Map<string, number>> {
  const column = table === 'audit_events' ? 'action' : 'type';
  const rows = await query<{ id: string; n: number }>(
    `SELECT resource_id AS id, COUNT(*) AS n FROM ${table} WHERE ${column} = ? GROUP BY resource_id`,
    [typeOrAction],
  );
  return new Map(rows.map((row) => [row.id, Number(row.n)]));
}
