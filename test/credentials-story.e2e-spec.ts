import { DataSource } from 'typeorm';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { openDirect } from './helpers/audit-db';
import { ALL_CANARIES, canariesIn, TYPE_FIXTURES } from './helpers/credential-fixtures';
import { serviceWithGrants } from './helpers/principals';
import { bearerFor, randomMasterKey, scratchMariadb, startApp, TestApp } from './helpers/test-app';

const API = '/api/v1';

/**
 * The credentials issue's "done when", end to end on MariaDB: an operator stores one credential
 * of each type through the documented API, a service with a grant reads one by path, nothing in
 * the database holds a secret in plaintext, and a master-key rotation completes while the
 * service keeps reading.
 */
describe('From stored credentials to a master-key rotation under load (MariaDB)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let sut: TestApp;
  const k1 = randomMasterKey();
  const k2 = randomMasterKey();
  const env = {
    CUSTOS_MASTER_KEY: undefined,
    JWT_SECRET: 'story-jwt-secret-that-is-long-enough-0123456789',
    THROTTLE_LIMIT: '100000',
    KEYS_REWRAP_BATCH_SIZE: '2',
  };

  beforeAll(async () => {
    database = await scratchMariadb();
    db = await openDirect(database);
  });

  afterAll(async () => {
    await sut?.close();
    await db?.destroy();
    await database?.drop();
  });

  it('should keep every secret readable and encrypted from storage through a key rotation', async () => {
    sut = await startApp(database, { env: { ...env, CUSTOS_MASTER_KEYS: `k1:${k1}` } });
    const admin = { authorization: await bearerFor(sut, 'admin') };
    const operator = { authorization: await bearerFor(sut, 'operator') };

    // The operator stores one credential of each type; no response carries a secret.
    const ids = new Map<string, string>();
    for (const fixture of TYPE_FIXTURES) {
      const created = await sut.http
        .post(`${API}/credentials`)
        .set(operator)
        .send({
          path: `acme/prod/${fixture.type}`,
          name: fixture.type,
          type: fixture.type,
          secret: fixture.secret,
        })
        .expect(201);
      expect(canariesIn(created.body)).toEqual([]);
      ids.set(fixture.type, created.body.id as string);
    }
    // And enough others that re-wrapping them takes a while.
    for (let i = 0; i < 60; i++) {
      await sut.http
        .post(`${API}/credentials`)
        .set(operator)
        .send({
          path: `acme/bulk/p${i}`,
          name: `p${i}`,
          type: 'password',
          secret: { password: `bulk-${i}` },
        })
        .expect(201);
    }
    const listed = await sut.http
      .get(`${API}/credentials?pathPrefix=acme/`)
      .set(operator)
      .expect(200);
    expect(listed.body.total).toBe(TYPE_FIXTURES.length + 60);
    expect(canariesIn(listed.body)).toEqual([]);

    // A service granted acme/prod/* reads one by path, and nothing elsewhere.
    const service = await serviceWithGrants(sut, admin.authorization, [
      { pathPattern: 'acme/prod/*', capabilities: ['read', 'reveal'] },
    ]);
    const read = await sut.http
      .get(`${API}/secrets/acme/prod/password`)
      .set(service.headers)
      .expect(200);
    expect(read.body.secret).toEqual(TYPE_FIXTURES[0].secret);
    await sut.http.get(`${API}/secrets/other/thing`).set(service.headers).expect(404);

    // Everything in the database is ciphertext: no canary in any column of any table.
    const tables = (await db.query<Record<string, string>[]>('SHOW TABLES')).map(
      (row) => Object.values(row)[0],
    );
    for (const table of tables) {
      const rows = await db.query<Record<string, unknown>[]>(`SELECT * FROM \`${table}\``);
      const dump = JSON.stringify(rows, (_key, value: unknown) =>
        Buffer.isBuffer(value) ? value.toString('latin1') : value,
      );
      expect({ table, found: ALL_CANARIES.filter((canary) => dump.includes(canary)) }).toEqual({
        table,
        found: [],
      });
    }

    // Rotate to k2 while the service keeps reading every type.
    await sut.close();
    sut = await startApp(database, { env: { ...env, CUSTOS_MASTER_KEYS: `k1:${k1},k2:${k2}` } });
    const admin2 = { authorization: await bearerFor(sut, 'admin') };
    let reading = true;
    const failures: string[] = [];
    let readsWhileRotating = 0;
    let rotating = false;
    const reader = (async () => {
      while (reading) {
        for (const fixture of TYPE_FIXTURES) {
          const response = await sut.http
            .get(`${API}/secrets/acme/prod/${fixture.type}`)
            .set(service.headers);
          if (rotating) readsWhileRotating++;
          if (
            response.status !== 200 ||
            JSON.stringify(response.body.secret) !== JSON.stringify(fixture.secret)
          )
            failures.push(`${fixture.type}: ${response.status}`);
        }
      }
    })();
    rotating = true;
    await sut.http.post(`${API}/keys/rotate`).set(admin2).send({ keyId: 'k2' }).expect(202);
    const deadline = Date.now() + 20_000;
    let status: {
      remaining: number;
      rewrap: { state: string };
      keys: { id: string; removable: boolean }[];
    };
    do {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await sut.http.get(`${API}/keys/status`).set(admin2).expect(200))
        .body as typeof status;
    } while ((status.remaining > 0 || status.rewrap.state !== 'done') && Date.now() < deadline);
    rotating = false;
    reading = false;
    await reader;
    expect(failures).toEqual([]);
    expect(readsWhileRotating).toBeGreaterThan(0);
    expect(status.remaining).toBe(0);
    expect(status.keys.find((key) => key.id === 'k1')?.removable).toBe(true);
    const metrics = (await sut.http.get('/metrics').expect(200)).text;
    expect(metrics).toContain('custos_master_key_rewrap_remaining 0');
    expect(metrics).toMatch(/custos_master_key_rewrapped_total\{kind="secretVersions"\} 68/);
    expect(metrics).toMatch(/custos_secret_reveals_total\{via="path",type="password"\} [1-9]/);
    const keks = await db.query<{ kek_id: string }[]>(
      'SELECT DISTINCT kek_id FROM credential_versions',
    );
    expect(keks).toEqual([{ kek_id: 'k2' }]);

    // With k1 gone, every type still reveals.
    await sut.close();
    sut = await startApp(database, { env: { ...env, CUSTOS_MASTER_KEYS: `k2:${k2}` } });
    const operator3 = { authorization: await bearerFor(sut, 'operator') };
    for (const fixture of TYPE_FIXTURES) {
      const revealed = await sut.http
        .post(`${API}/credentials/${ids.get(fixture.type)}/reveal`)
        .set(operator3)
        .send({ reason: 'after the rotation' })
        .expect(200);
      expect(revealed.body.secret).toEqual(fixture.secret);
    }
  });
});
