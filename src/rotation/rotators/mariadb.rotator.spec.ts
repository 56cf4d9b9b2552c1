import type { EntityManager } from 'typeorm';
import { strictFn } from '../../../test/helpers/controller-app';
import type { Principal } from '../../common/auth/principal';
import { RequestValidationError } from '../../common/validation/request-validation.error';
import type { CredentialAccess } from '../../credentials/credential-access';
import { CredentialNotFoundError } from '../../credentials/credential.errors';
import { Credential } from '../../credentials/entities/credential.entity';
import type { TransactionRunner } from '../../database/transaction-runner';
import { loadOutboundConfig } from '../../config/outbound.config';
import { OutboundGuard } from '../../outbound/outbound-guard';
import type { AdminLoginReader } from './mariadb/admin-login-reader';
import type { RotatorSettings } from '../policy/effective-policy';
import { MariadbSettings } from './mariadb/mariadb-settings';
import { planOf } from './mariadb/mariadb-plan';
import { MariadbRotator } from './mariadb.rotator';
import { PermanentRotationError } from './rotator';
import { RotatorRegistry } from './rotator-registry';

const CREDENTIAL_ID = '5b1e6c2a-8d3f-4a7b-9c1d-2e3f4a5b6c7d';
const ADMIN_ID = '7a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d';
const PRINCIPAL = { type: 'user', id: 'u-1', role: 'operator' } as unknown as Principal;
const MANAGER = {} as EntityManager;
const BASE = { kind: 'mariadb', adminCredentialId: ADMIN_ID, host: 'db.internal' };

function credential(fields: Partial<Credential> = {}): Credential {
  return Object.assign(new Credential(), {
    id: CREDENTIAL_ID,
    path: 'acme/db/app',
    type: 'password',
    username: 'app_a',
    status: 'active',
    ...fields,
  });
}

/** Field → messages of the 400 that `work` throws. */
function refusal(work: () => unknown): Record<string, string[]> {
  try {
    work();
  } catch (error) {
    if (error instanceof RequestValidationError) {
      return Object.fromEntries(error.fields.map((f) => [f.field, f.errors]));
    }
    throw error;
  }
  throw new Error('expected a 400');
}

describe('MariadbRotator', () => {
  const byId = strictFn('CredentialAccess.byId');
  const read = strictFn('AdminLoginReader.read');
  const pendingValue = strictFn('RotationContext.pendingValue');
  /** What every name resolves to for the outbound guard (the real one, default configuration). */
  let resolved = '203.0.113.10';
  const sut = new MariadbRotator(
    {} as TransactionRunner,
    { read } as unknown as AdminLoginReader,
    { byId } as unknown as CredentialAccess,
    new OutboundGuard(loadOutboundConfig({}), () =>
      Promise.resolve([{ address: resolved, family: 4 }]),
    ),
  );
  const registry = new RotatorRegistry([sut]);
  const settingsOf = (rotator: RotatorSettings) =>
    registry.resolve(rotator, 'password').settings as MariadbSettings;

  beforeEach(() => {
    jest.resetAllMocks();
    resolved = '203.0.113.10';
  });

  describe('settings', () => {
    it('should fill in the defaults', () => {
      expect(settingsOf({ ...BASE, users: ['app_a', 'app_b'] })).toEqual(
        Object.assign(new MariadbSettings(), {
          adminCredentialId: ADMIN_ID,
          host: 'db.internal',
          strategy: 'alternating-users',
          port: 3306,
          accountHost: '%',
          retire: 'lock',
          users: ['app_a', 'app_b'],
        }),
      );
    });

    it.each([
      [{ ...BASE }, 'rotator.users', /two user names/],
      [{ ...BASE, users: ['app_a'] }, 'rotator.users', /two user names/],
      [{ ...BASE, users: ['app_a', 'app_a'] }, 'rotator.users', /two different/],
      [{ ...BASE, users: ['app_a', 'b`c'] }, 'rotator.users', /user names matching/],
      [{ ...BASE, strategy: 'single-user', users: ['a', 'b'] }, 'rotator.users', /left out/],
      [{ ...BASE, users: ['a', 'b'], strategy: 'dual' }, 'rotator.strategy', /one of/],
      [{ ...BASE, users: ['a', 'b'], adminCredentialId: 'x' }, 'rotator.adminCredentialId', /UUID/],
      [{ ...BASE, users: ['a', 'b'], host: 'a b' }, 'rotator.host', /host name/],
      [{ ...BASE, users: ['a', 'b'], host: undefined }, 'rotator.host', /host name/],
      [{ ...BASE, users: ['a', 'b'], port: 0 }, 'rotator.port', /1/],
      [{ ...BASE, users: ['a', 'b'], accountHost: "%' OR 1" }, 'rotator.accountHost', /match/],
      [{ ...BASE, users: ['a', 'b'], retire: 'drop' }, 'rotator.retire', /one of/],
      [{ ...BASE, users: ['a', 'b'], tls: 'yes' }, 'rotator.tls', /true, false/],
      [{ ...BASE, users: ['a', 'b'], tls: { ca: 'x' } }, 'rotator.tls', /PEM/],
      [{ ...BASE, users: ['a', 'b'], tls: { servername: 'x' } }, 'rotator.tls', /unknown/],
      [{ ...BASE, users: ['a', 'b'], database: 'app' }, 'rotator.database', /should not exist/],
    ])('should refuse %p on %s', (rotator, field, message) => {
      expect(refusal(() => settingsOf(rotator))[field]).toEqual([expect.stringMatching(message)]);
    });

    it('should take single-user without users, IP hosts and a TLS setting', () => {
      const settings = settingsOf({
        ...BASE,
        strategy: 'single-user',
        host: '10.1.2.3',
        tls: { rejectUnauthorized: false },
      });

      expect(settings).toMatchObject({
        strategy: 'single-user',
        tls: { rejectUnauthorized: false },
      });
    });
  });

  describe('planOf', () => {
    const alternating = () => settingsOf({ ...BASE, users: ['app_a', 'app_b'] });

    it('should give the new password to the user not in service, the other staying as it is', () => {
      expect(planOf(alternating(), credential({ username: 'app_b' }))).toEqual({
        target: { name: 'app_a', host: '%' },
        previous: { name: 'app_b', host: '%' },
      });
    });

    it('should fail for good when the credential uses neither user', () => {
      expect(() => planOf(alternating(), credential({ username: 'root' }))).toThrow(
        PermanentRotationError,
      );
    });

    it('should change the credential’s own user with single-user, if it is a valid name', () => {
      const single = settingsOf({ ...BASE, strategy: 'single-user', accountHost: '10.%' });

      expect(planOf(single, credential()).target).toEqual({ name: 'app_a', host: '10.%' });
      expect(() => planOf(single, credential({ username: "a'b" }))).toThrow(PermanentRotationError);
    });
  });

  describe('reviewPolicy', () => {
    const target = { credential: credential(), principal: PRINCIPAL };
    const admin = () => credential({ id: ADMIN_ID, username: 'custos_admin' });

    it('should accept an admin credential the writer may reveal, with no warning', async () => {
      byId.mockResolvedValueOnce(admin());

      const review = await sut.reviewPolicy(
        settingsOf({ ...BASE, users: ['app_a', 'app_b'] }),
        target,
        MANAGER,
      );

      expect(review).toEqual({ warnings: [] });
      expect(byId).toHaveBeenCalledWith(MANAGER, PRINCIPAL, ADMIN_ID, 'reveal');
    });

    it('should force the grace to zero for single-user, saying why', async () => {
      byId.mockResolvedValueOnce(admin());

      const review = await sut.reviewPolicy(
        settingsOf({ ...BASE, strategy: 'single-user' }),
        target,
        MANAGER,
      );

      expect(review).toEqual({
        gracePeriod: 'PT0S',
        warnings: [expect.stringMatching(/^single-user: .*old password stops working/)],
      });
    });

    it('should refuse the rotated credential as its own admin, before reading anything', async () => {
      await expect(
        sut.reviewPolicy(
          settingsOf({ ...BASE, users: ['app_a', 'app_b'], adminCredentialId: CREDENTIAL_ID }),
          target,
          MANAGER,
        ),
      ).rejects.toMatchObject({ fields: [{ field: 'rotator.adminCredentialId' }] });
    });

    it.each([
      ['one the writer may not reveal', () => Promise.reject(new CredentialNotFoundError())],
      ['an API key', () => Promise.resolve(credential({ id: ADMIN_ID, type: 'api_key' }))],
      [
        'one without a username',
        () => Promise.resolve(credential({ id: ADMIN_ID, username: null })),
      ],
    ])('should refuse %s as the admin credential', async (_case, found) => {
      byId.mockImplementationOnce(found);

      await expect(
        sut.reviewPolicy(settingsOf({ ...BASE, users: ['app_a', 'app_b'] }), target, MANAGER),
      ).rejects.toMatchObject({ fields: [{ field: 'rotator.adminCredentialId' }] });
    });

    it('should refuse users that do not include the credential’s username', async () => {
      byId.mockResolvedValueOnce(admin());

      await expect(
        sut.reviewPolicy(settingsOf({ ...BASE, users: ['app_b', 'app_c'] }), target, MANAGER),
      ).rejects.toMatchObject({ fields: [{ field: 'rotator.users' }] });
    });

    it('should check only the admin credential for a path pattern', async () => {
      byId.mockResolvedValueOnce(admin());

      const review = await sut.reviewPolicy(
        settingsOf({ ...BASE, users: ['app_b', 'app_c'] }),
        { credential: null, principal: PRINCIPAL },
        MANAGER,
      );

      expect(review).toEqual({ warnings: [] });
    });
  });

  describe('outbound guard', () => {
    it.each(['127.0.0.1', '169.254.169.254', '::1', 'localhost', '10.1.2.3'])(
      'should refuse the host %s in the policy, before reading any credential',
      async (host) => {
        await expect(
          sut.reviewPolicy(
            settingsOf({ ...BASE, host, users: ['app_a', 'app_b'] }),
            { credential: credential(), principal: PRINCIPAL },
            MANAGER,
          ),
        ).rejects.toMatchObject({
          fields: [
            { field: 'rotator.host', errors: [expect.stringMatching(/^Outbound call refused/)] },
          ],
        });
      },
    );

    it('should fail a run for good when the host resolves to a forbidden address, touching nothing', async () => {
      resolved = '169.254.169.254';
      const context = {
        credential: credential(),
        run: {
          id: 'run-1',
          attempt: 1,
          trigger: 'manual',
          emergency: false,
          graceSeconds: 0,
          pendingVersion: 2,
        },
        settings: settingsOf({ ...BASE, users: ['app_a', 'app_b'] }),
        generator: null,
        currentValue: strictFn('RotationContext.currentValue'),
        pendingValue,
      } as const;

      await expect(sut.apply(context)).rejects.toThrow(PermanentRotationError);
      await expect(sut.test(context)).rejects.toThrow(/db.internal resolves to/);
    });
  });
});
