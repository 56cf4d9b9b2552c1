import { strictFn } from '../../../test/helpers/controller-app';
import { AuditWriter } from '../../audit/audit-writer';
import { RequestValidationError } from '../../common/validation/request-validation.error';
import { Credential } from '../../credentials/entities/credential.entity';
import { VersionStore } from '../../credentials/version-store';
import { TransactionRunner } from '../../database/transaction-runner';
import { loadOutboundConfig } from '../../config/outbound.config';
import { OutboundGuard } from '../../outbound/outbound-guard';
import { OutboundHttp } from '../../outbound/outbound-http';
import { OutboundRefusedError, OutboundRequestError } from '../../outbound/outbound.errors';
import { verifySignature } from '../../outbound/webhook-signature';
import type { RotationContext } from './rotator';
import { PermanentRotationError } from './rotator';
import { RotatorRegistry } from './rotator-registry';
import { WebhookRotator, WebhookSettings } from './webhook.rotator';

const CREDENTIAL_ID = '5b1e6c2a-8d3f-4a7b-9c1d-2e3f4a5b6c7d';
const KEY_ID = '8d0f6a4e-2b1c-4f7e-9a3d-5c6b7a8e9f01';
const RUN_ID = '3b9e2f7c-6d1a-4c8b-b5e4-0a7f9d2c1e63';
const SIGNING_KEY = 'whsec_0123456789abcdef';
const NEW_VALUE = 'ck_new-value-0123456789';

function keyRow(overrides: Record<string, unknown> = {}) {
  return {
    id: KEY_ID,
    path: 'acme/hooks/signing',
    type: 'shared_secret',
    status: 'active',
    currentVersion: 3,
    port: null,
    ...overrides,
  };
}

describe('WebhookRotator', () => {
  let sut: WebhookRotator;
  const http = { send: strictFn('OutboundHttp.send') };
  const audit = { record: strictFn('AuditWriter.record') };
  const versions = { value: strictFn('VersionStore.value') };
  const manager = { query: strictFn('EntityManager.query') };
  const transactions = { read: jest.fn((work: (m: unknown) => unknown) => work(manager)) };

  function context(settings: Partial<WebhookSettings> = {}): RotationContext<WebhookSettings> {
    return {
      credential: Object.assign(new Credential(), {
        id: CREDENTIAL_ID,
        path: 'acme/prod/billing-key',
        type: 'api_key',
      }),
      run: {
        id: RUN_ID,
        attempt: 1,
        trigger: 'manual',
        emergency: false,
        graceSeconds: 3600,
        pendingVersion: 7,
      },
      settings: Object.assign(new WebhookSettings(), {
        url: 'https://hooks.example.com/rotate',
        secretCredentialId: KEY_ID,
        ...settings,
      }),
      generator: null,
      currentValue: strictFn('currentValue'),
      pendingValue: jest.fn(() => Promise.resolve({ apiKey: NEW_VALUE })),
    };
  }

  function arrangeKey(row = keyRow()): void {
    manager.query.mockResolvedValueOnce([row]);
    versions.value.mockResolvedValueOnce({ secret: SIGNING_KEY });
    audit.record.mockResolvedValueOnce(undefined);
  }

  // No DNS: reviewPolicy only looks at what the URL says literally.
  const guard = new OutboundGuard(loadOutboundConfig({}), () =>
    Promise.reject(new Error('no DNS in unit tests')),
  );

  beforeEach(() => {
    jest.clearAllMocks();
    sut = new WebhookRotator(
      http as unknown as OutboundHttp,
      transactions as unknown as TransactionRunner,
      versions as unknown as VersionStore,
      audit as unknown as AuditWriter,
      guard,
    );
  });

  describe('create', () => {
    it("should make a value with the policy's generator", async () => {
      const ctx = context();
      const value = await sut.create({ ...ctx, generator: { format: 'hex', length: 12 } });
      expect(value).toEqual({ apiKey: expect.stringMatching(/^[0-9a-f]{12}$/) });
    });
  });

  describe('apply', () => {
    it('should POST the new value, signed with the referenced key, never the current one', async () => {
      arrangeKey();
      http.send.mockResolvedValueOnce({ status: 204 });

      await sut.apply(context());

      const [call] = http.send.mock.calls[0];
      expect(call).toMatchObject({ method: 'POST', url: 'https://hooks.example.com/rotate' });
      const body = JSON.parse(call.body);
      expect(body).toEqual({
        deliveryId: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-/),
        credentialId: CREDENTIAL_ID,
        path: 'acme/prod/billing-key',
        version: 7,
        value: NEW_VALUE,
      });
      expect(call.headers['x-custos-delivery']).toBe(body.deliveryId);
      expect(call.headers['x-custos-event']).toBe('rotation.apply');
      expect(verifySignature(call.headers['x-custos-signature'], SIGNING_KEY, call.body)).toBe(
        true,
      );
    });

    it('should audit the reveal of the signing key, as the system, before calling out', async () => {
      arrangeKey();
      http.send.mockResolvedValueOnce({ status: 200 });

      await sut.apply(context());

      expect(audit.record).toHaveBeenCalledWith({
        action: 'credential.reveal',
        outcome: 'success',
        resourceType: 'credential',
        resourceId: KEY_ID,
        details: {
          path: 'acme/hooks/signing',
          version: 3,
          state: 'current',
          via: 'rotator',
          rotator: 'webhook',
          runId: RUN_ID,
          forCredentialId: CREDENTIAL_ID,
        },
        actor: expect.objectContaining({ type: 'system' }),
      });
      expect(audit.record.mock.invocationCallOrder[0]).toBeLessThan(
        http.send.mock.invocationCallOrder[0],
      );
    });

    it('should not call out when the audit event cannot be written', async () => {
      manager.query.mockResolvedValueOnce([keyRow()]);
      versions.value.mockResolvedValueOnce({ secret: SIGNING_KEY });
      audit.record.mockRejectedValueOnce(new Error('database down'));

      await expect(sut.apply(context())).rejects.toThrow('database down');
      expect(http.send).not.toHaveBeenCalled();
    });

    it('should give the same delivery id when the step runs again', async () => {
      arrangeKey();
      arrangeKey();
      http.send.mockResolvedValue({ status: 200 });

      await sut.apply(context());
      await sut.apply(context());

      const ids = http.send.mock.calls.map(
        ([call]: [{ headers: Record<string, string> }]) => call.headers['x-custos-delivery'],
      );
      expect(ids[0]).toBe(ids[1]);
    });

    it('should fail the step on an answer that is not 2xx, naming the status only', async () => {
      arrangeKey();
      http.send.mockResolvedValueOnce({ status: 500, body: Buffer.from(NEW_VALUE) });

      const failure = sut.apply(context());

      await expect(failure).rejects.toThrow(new Error('the webhook answered HTTP 500'));
    });

    it('should pass a request error on, so the engine retries', async () => {
      arrangeKey();
      http.send.mockRejectedValueOnce(new OutboundRequestError('hooks.example.com: ECONNRESET'));

      await expect(sut.apply(context())).rejects.toThrow(OutboundRequestError);
    });

    it('should fail the run for good when the guard refuses the URL', async () => {
      arrangeKey();
      http.send.mockRejectedValueOnce(new OutboundRefusedError('127.0.0.1 is a loopback address'));

      await expect(sut.apply(context())).rejects.toThrow(PermanentRotationError);
    });

    it.each([
      [
        'a credential of another type',
        [keyRow({ type: 'password' })],
        /must be an active shared_secret/,
      ],
      ['a deleted credential', [keyRow({ status: 'deleted' })], /must be an active shared_secret/],
      ['no credential', [], /does not exist/],
    ])(
      'should fail the run for good when the key reference names %s',
      async (_case, rows, reason) => {
        manager.query.mockResolvedValueOnce(rows);

        const failure = sut.apply(context());

        await expect(failure).rejects.toThrow(PermanentRotationError);
        await expect(failure).rejects.toThrow(reason);
        expect(http.send).not.toHaveBeenCalled();
      },
    );

    it('should refuse to sign with the credential it rotates', async () => {
      await expect(sut.apply(context({ secretCredentialId: CREDENTIAL_ID }))).rejects.toThrow(
        PermanentRotationError,
      );
    });
  });

  describe('test', () => {
    it('should pass without a verify URL and call nothing', async () => {
      await expect(sut.test(context())).resolves.toBeUndefined();
    });

    it('should POST {credentialId, version}, signed, to the verify URL', async () => {
      arrangeKey();
      http.send.mockResolvedValueOnce({ status: 200 });

      await sut.test(context({ verifyUrl: 'https://hooks.example.com/verify' }));

      const [call] = http.send.mock.calls[0];
      expect(call.method).toBe('POST');
      expect(JSON.parse(call.body)).toEqual({ credentialId: CREDENTIAL_ID, version: 7 });
      expect(call.headers['x-custos-event']).toBe('rotation.verify');
      expect(verifySignature(call.headers['x-custos-signature'], SIGNING_KEY, call.body)).toBe(
        true,
      );
    });

    it('should GET with the facts in the query and sign the empty body', async () => {
      arrangeKey();
      http.send.mockResolvedValueOnce({ status: 204 });

      await sut.test(
        context({ verifyUrl: 'https://hooks.example.com/verify?x=1', verifyMethod: 'GET' }),
      );

      const [call] = http.send.mock.calls[0];
      expect(call.method).toBe('GET');
      expect(call.url).toBe(
        `https://hooks.example.com/verify?x=1&credentialId=${CREDENTIAL_ID}&version=7`,
      );
      expect(verifySignature(call.headers['x-custos-signature'], SIGNING_KEY, '')).toBe(true);
    });

    it('should fail the step when the verify URL answers 500', async () => {
      arrangeKey();
      http.send.mockResolvedValueOnce({ status: 500 });

      await expect(
        sut.test(context({ verifyUrl: 'https://hooks.example.com/verify' })),
      ).rejects.toThrow('the verify URL answered HTTP 500');
    });
  });

  describe('settings', () => {
    const registry = new RotatorRegistry([
      new WebhookRotator(
        http as unknown as OutboundHttp,
        transactions as unknown as TransactionRunner,
        versions as unknown as VersionStore,
        audit as unknown as AuditWriter,
        guard,
      ),
    ]);
    const fieldsOf = (settings: Record<string, unknown>) => {
      try {
        registry.resolve({ kind: 'webhook', ...settings }, 'api_key');
      } catch (error) {
        if (error instanceof RequestValidationError) return error.fields.map((f) => f.field);
        throw error;
      }
      return [];
    };
    const valid = { url: 'https://hooks.example.com/rotate', secretCredentialId: KEY_ID };

    it('should accept a URL and a key reference', () => {
      expect(fieldsOf(valid)).toEqual([]);
      expect(
        fieldsOf({
          ...valid,
          verifyUrl: 'https://hooks.example.com/verify',
          verifyMethod: 'GET',
          timeoutMs: 5000,
        }),
      ).toEqual([]);
    });

    it.each([
      ['no URL', { secretCredentialId: KEY_ID }, ['rotator.url']],
      ['an ftp URL', { ...valid, url: 'ftp://hooks.example.com/' }, ['rotator.url']],
      ['no key reference', { url: valid.url }, ['rotator.secretCredentialId']],
      ['a signing key in plain text', { ...valid, secret: 'whsec_x' }, ['rotator.secret']],
      ['a verify method of PUT', { ...valid, verifyMethod: 'PUT' }, ['rotator.verifyMethod']],
      ['a timeout of two minutes', { ...valid, timeoutMs: 120_000 }, ['rotator.timeoutMs']],
    ])('should refuse %s', (_case, settings, fields) => {
      expect(fieldsOf(settings)).toEqual(fields);
    });

    it('should rotate the types the generator makes, and nothing else', () => {
      expect(registry.supports('webhook', 'api_key')).toBe(true);
      expect(registry.supports('webhook', 'shared_secret')).toBe(true);
      expect(registry.supports('webhook', 'certificate')).toBe(false);
    });
  });

  describe('reviewPolicy', () => {
    it.each([
      ['rotator.url', { url: 'https://169.254.169.254/latest/meta-data/' }],
      ['rotator.url', { url: 'https://127.0.0.1/hook' }],
      [
        'rotator.verifyUrl',
        { url: 'https://hooks.example.com/x', verifyUrl: 'https://[::ffff:10.0.0.1]/v' },
      ],
    ])(
      'should refuse %s naming a forbidden address when the policy is written',
      async (field, urls) => {
        const settings = Object.assign(new WebhookSettings(), urls);

        const refused = await sut.reviewPolicy(settings).catch((error: unknown) => error);

        expect(refused).toBeInstanceOf(RequestValidationError);
        expect((refused as RequestValidationError).fields.map((f) => f.field)).toEqual([field]);
      },
    );

    it('should accept public URLs without asking DNS', async () => {
      const settings = Object.assign(new WebhookSettings(), {
        url: 'https://hooks.example.com/x',
        verifyUrl: 'https://hooks.example.com/v',
      });

      await expect(sut.reviewPolicy(settings)).resolves.toEqual({ warnings: [] });
    });
  });
});
