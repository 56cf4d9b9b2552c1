import { DataSource } from 'typeorm';
import { OutboundGuard } from '../src/outbound/outbound-guard';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { verifySignature } from '../src/outbound/webhook-signature';
import { RotationScheduler } from '../src/rotation/engine/rotation-scheduler';
import { openDirect } from './helpers/audit-db';
import { createCredential, Headers } from './helpers/credential-fixtures';
import { HttpsReceiver } from './helpers/https-receiver';
import { until } from './helpers/rotation-checks';
import { bearerFor, scratchMariadb, startApp, TestApp } from './helpers/test-app';

const API = '/api/v1';
const SIGNING_KEY = 'whsec_e2e-signing-key-0123456789abcdef';

interface Run {
  id: string;
  status: string;
  step: string;
  attempt: number;
  error: string | null;
}

/** The webhook rotator against a local HTTPS receiver with a self-signed certificate. */
describe('Webhook rotator (MariaDB, HTTPS receiver)', () => {
  let database: ScratchDatabase;
  let db: DataSource;
  let receiver: HttpsReceiver;
  let sut: TestApp;
  let admin: Headers;
  let keyId: string;

  beforeAll(async () => {
    receiver = await HttpsReceiver.start();
    database = await scratchMariadb();
    sut = await startApp(database, {
      env: {
        THROTTLE_LIMIT: '100000',
        ROTATION_TICK: 'PT1S',
        ROTATION_MAX_ATTEMPTS: '2',
        ROTATION_RETRY_BACKOFF: 'PT1S',
        CUSTOS_OUTBOUND_ALLOW_LOOPBACK: 'true',
        CUSTOS_OUTBOUND_CA_FILE: receiver.caFile,
        CUSTOS_OUTBOUND_TIMEOUT_MS: '3000',
      },
    });
    db = await openDirect(database);
    admin = { authorization: await bearerFor(sut, 'admin') };
    const key = await createCredential(sut, admin, {
      path: 'hooks/signing-key',
      type: 'shared_secret',
      secret: { secret: SIGNING_KEY },
    });
    keyId = key.id;
  });

  afterAll(async () => {
    await sut?.close();
    await db?.destroy();
    await database?.drop();
    await receiver?.close();
  });

  beforeEach(() => {
    receiver.requests.length = 0;
    receiver.responder = () => ({ status: 204 });
  });

  async function webhookCredential(path: string, settings: Record<string, unknown>) {
    const credential = await createCredential(sut, admin, {
      path,
      type: 'api_key',
      secret: { apiKey: `old-value-of-${path.replace(/\W/g, '-')}` },
    });
    await sut.http
      .put(`${API}/credentials/${credential.id}/rotation`)
      .set(admin)
      .send({
        enabled: true,
        interval: 'P30D',
        gracePeriod: 'PT1H',
        rotator: { kind: 'webhook', secretCredentialId: keyId, ...settings },
        generator: { format: 'api_key', length: 40, prefix: 'ck_' },
      })
      .expect(200);
    return credential;
  }

  async function rotateAndSettle(id: string): Promise<Run> {
    const accepted = await sut.http
      .post(`${API}/credentials/${id}/rotate`)
      .set(admin)
      .send({})
      .expect(202);
    const runId = (accepted.body as { runId: string }).runId;
    return until(async () => {
      await sut.app.get(RotationScheduler).tick();
      const run = (await sut.http.get(`${API}/rotations/${runId}`).set(admin).expect(200))
        .body as Run;
      return ['running', 'retrying'].includes(run.status) ? undefined : run;
    }, 30_000);
  }

  async function revealed(id: string): Promise<{ version: number; secret: { apiKey: string } }> {
    const response = await sut.http
      .post(`${API}/credentials/${id}/reveal`)
      .set(admin)
      .send({ reason: 'e2e' })
      .expect(200);
    return response.body as { version: number; secret: { apiKey: string } };
  }

  it('should deliver the new value, correctly signed, verify it and switch to it', async () => {
    const credential = await webhookCredential('acme/billing/api-key', {
      url: receiver.url('/install'),
      verifyUrl: receiver.url('/verify'),
    });
    const before = await revealed(credential.id);

    const run = await rotateAndSettle(credential.id);

    expect(run).toMatchObject({ status: 'succeeded', step: 'done' });
    const after = await revealed(credential.id);
    expect(after.version).toBe(2);
    const [install] = receiver.to('/install');
    expect(install.method).toBe('POST');
    expect(JSON.parse(install.body)).toEqual({
      deliveryId: install.headers['x-custos-delivery'],
      credentialId: credential.id,
      path: 'acme/billing/api-key',
      version: 2,
      value: after.secret.apiKey,
    });
    expect(install.body).not.toContain(before.secret.apiKey);
    expect(
      verifySignature(String(install.headers['x-custos-signature']), SIGNING_KEY, install.body),
    ).toBe(true);
    const [verify] = receiver.to('/verify');
    expect(JSON.parse(verify.body)).toEqual({ credentialId: credential.id, version: 2 });
    expect(
      verifySignature(String(verify.headers['x-custos-signature']), SIGNING_KEY, verify.body),
    ).toBe(true);
    const reveals = await db.query<{ details: string }[]>(
      "SELECT details FROM audit_events WHERE action = 'credential.reveal' AND resource_id = ?",
      [keyId],
    );
    expect(reveals.map((r) => JSON.parse(r.details) as object)).toContainEqual(
      expect.objectContaining({
        via: 'rotator',
        rotator: 'webhook',
        forCredentialId: credential.id,
      }),
    );
  });

  it('should retry when the verify URL answers 500, then fail with the old value serving', async () => {
    receiver.responder = (r) => (r.path === '/verify-broken' ? { status: 500 } : { status: 204 });
    const credential = await webhookCredential('acme/billing/broken-verify', {
      url: receiver.url('/install-2'),
      verifyUrl: receiver.url('/verify-broken'),
    });
    const before = await revealed(credential.id);

    const run = await rotateAndSettle(credential.id);

    expect(run).toMatchObject({ status: 'failed', attempt: 2 });
    expect(run.error).toBe('the verify URL answered HTTP 500');
    expect(receiver.to('/verify-broken')).toHaveLength(2);
    const values = receiver
      .to('/install-2')
      .map((r) => (JSON.parse(r.body) as { value: string }).value);
    expect(new Set(values).size).toBe(2);
    expect(await revealed(credential.id)).toEqual(before);
  });

  it('should refuse a policy whose URL names a forbidden address, and fail a run at once whose host resolves to one', async () => {
    const refused = await createCredential(sut, admin, {
      path: 'acme/billing/metadata',
      type: 'api_key',
      secret: { apiKey: 'old-metadata' },
    });
    const response = await sut.http
      .put(`${API}/credentials/${refused.id}/rotation`)
      .set(admin)
      .send({
        enabled: true,
        rotator: {
          kind: 'webhook',
          secretCredentialId: keyId,
          url: 'https://169.254.169.254/latest/meta-data/',
        },
      })
      .expect(400);
    expect(JSON.stringify(response.body)).toMatch(/169\.254\.169\.254 is a link-local address/);

    // A name is only resolved when the call is made: the run fails there, calling nothing.
    const guard = sut.app.get(OutboundGuard);
    const resolver: unknown = Reflect.get(guard, 'resolver');
    Reflect.set(guard, 'resolver', (host: string) =>
      host === 'metadata.test'
        ? Promise.resolve([{ address: '169.254.169.254', family: 4 }])
        : Promise.reject(Object.assign(new Error('not found'), { code: 'ENOTFOUND' })),
    );
    try {
      const credential = await webhookCredential('acme/billing/metadata-by-name', {
        url: 'https://metadata.test/latest/meta-data/',
      });

      const run = await rotateAndSettle(credential.id);

      expect(run).toMatchObject({ status: 'failed', attempt: 1 });
      expect(run.error).toMatch(/169\.254\.169\.254 is a link-local address/);
      expect(receiver.requests).toHaveLength(0);
    } finally {
      Reflect.set(guard, 'resolver', resolver);
    }
  });

  it('should refuse a policy whose signing key is given in plain text', async () => {
    const credential = await createCredential(sut, admin, {
      path: 'acme/billing/plain-key',
      type: 'api_key',
      secret: { apiKey: 'old-plain' },
    });
    const response = await sut.http
      .put(`${API}/credentials/${credential.id}/rotation`)
      .set(admin)
      .send({
        enabled: true,
        rotator: { kind: 'webhook', url: receiver.url('/x'), secret: SIGNING_KEY },
      })
      .expect(400);
    expect(JSON.stringify(response.body)).not.toContain(SIGNING_KEY);
  });
});
