import type { EntityManager } from 'typeorm';
import { strictFn } from '../../../test/helpers/controller-app';
import { AuditRequestContext } from '../../audit/audit-context';
import type { AuditWriter } from '../../audit/audit-writer';
import type { TransactionRunner } from '../../database/transaction-runner';
import { ConflictError } from '../auth.errors';
import type { Principal } from '../../common/auth/principal';
import { ServiceAccount } from '../service-accounts/service-account.entity';
import { User } from '../users/user.entity';
import { AccessGrant } from './access-grant.entity';
import { Capability } from '../../common/auth/access-vocabulary';
import {
  GrantNotFoundError,
  GrantPrincipalNotFoundError,
  InvalidCapabilitiesError,
  InvalidPathPatternError,
} from './grant.errors';
import { GRANT_LIST_MAX, GrantCreateInput, GrantsService } from './grants.service';

const ADMIN: Principal = {
  type: 'user',
  id: '9c2d4e6f-8a0b-4c1d-9e2f-3a4b5c6d7e8f',
  email: 'admin@example.com',
  role: 'admin',
  mustChangePassword: false,
  mfaEnabled: false,
};
const USER_ID = '0b9f6a3e-4f0c-4d59-9a3e-1f2b3c4d5e6f';
const GRANT_ID = '3f1f6f0f-2a11-4c1e-9a57-5b8f3c2e0d7a';
const INPUT: GrantCreateInput = {
  principalType: 'user',
  principalId: USER_ID,
  pathPattern: 'acme/prod/*',
  capabilities: ['reveal', 'read'],
};

function stored(overrides: Partial<AccessGrant> = {}): AccessGrant {
  return Object.assign(new AccessGrant(), {
    id: GRANT_ID,
    principalType: 'user',
    principalId: USER_ID,
    pathPattern: 'acme/prod/*',
    capabilities: 'read,reveal',
    createdBy: ADMIN.id,
    createdAt: new Date('2025-01-02T03:04:05.000Z'),
    ...overrides,
  });
}

type ManagerMethod =
  'findOne' | 'findOneBy' | 'findOneByOrFail' | 'find' | 'existsBy' | 'insert' | 'delete';
type MockManager = Record<ManagerMethod, jest.Mock> & { connection: { options: { type: string } } };

describe('GrantsService', () => {
  let manager: MockManager;
  let transactions: { run: jest.Mock };
  let audit: { record: jest.Mock };
  let sut: GrantsService;
  const context = new AuditRequestContext('req-1', '127.0.0.1', 'jest');

  beforeEach(() => {
    manager = {
      connection: { options: { type: 'mysql' } },
      findOne: strictFn('EntityManager.findOne'),
      findOneBy: strictFn('EntityManager.findOneBy'),
      findOneByOrFail: strictFn('EntityManager.findOneByOrFail'),
      find: strictFn('EntityManager.find'),
      existsBy: strictFn('EntityManager.existsBy'),
      insert: strictFn('EntityManager.insert'),
      delete: strictFn('EntityManager.delete'),
    };
    transactions = {
      run: jest.fn((work: (m: EntityManager) => Promise<unknown>) =>
        work(manager as unknown as EntityManager),
      ),
    };
    audit = { record: strictFn('AuditWriter.record') };
    sut = new GrantsService(
      transactions as unknown as TransactionRunner,
      audit as unknown as AuditWriter,
    );
  });

  describe('create', () => {
    function arrangeCreate(principal: object | null = { id: USER_ID }): void {
      manager.findOne.mockResolvedValueOnce(principal);
      manager.existsBy.mockResolvedValueOnce(false);
      manager.insert.mockResolvedValueOnce({});
      audit.record.mockResolvedValueOnce(undefined);
      manager.findOneByOrFail.mockImplementationOnce((_entity: unknown, where: { id: string }) =>
        Promise.resolve(stored({ id: where.id })),
      );
    }

    it('should store the grant with its capabilities in canonical order and its creator', async () => {
      arrangeCreate();

      const grant = await sut.create(INPUT, ADMIN, context);

      expect(manager.insert).toHaveBeenCalledWith(AccessGrant, {
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        principalType: 'user',
        principalId: USER_ID,
        pathPattern: 'acme/prod/*',
        capabilities: 'read,reveal',
        createdBy: ADMIN.id,
      });
      const { id } = manager.insert.mock.calls[0][1] as { id: string };
      expect(grant.id).toBe(id);
    });

    it('should record its audit event in the same transaction', async () => {
      arrangeCreate();

      await sut.create(INPUT, ADMIN, context);

      const { id } = manager.insert.mock.calls[0][1] as { id: string };
      expect(audit.record).toHaveBeenCalledWith(
        {
          action: 'grant.create',
          outcome: 'success',
          httpStatus: 201,
          resourceType: 'grant',
          resourceId: id,
          details: {
            principalType: 'user',
            principalId: USER_ID,
            pathPattern: 'acme/prod/*',
            capabilities: ['read', 'reveal'],
          },
          context,
        },
        manager,
      );
      expect(transactions.run).toHaveBeenCalledTimes(1);
    });

    it('should lock the user row so it cannot be deleted meanwhile', async () => {
      arrangeCreate();

      await sut.create(INPUT, ADMIN, context);

      expect(manager.findOne).toHaveBeenCalledWith(User, {
        where: { id: USER_ID },
        lock: { mode: 'pessimistic_write' },
      });
    });

    it('should look up a service account for a service_account grant', async () => {
      arrangeCreate();

      await sut.create({ ...INPUT, principalType: 'service_account' }, ADMIN, context);

      expect(manager.findOne).toHaveBeenCalledWith(ServiceAccount, expect.anything());
    });

    it('should not ask SQLite for row locks', async () => {
      manager.connection.options.type = 'better-sqlite3';
      arrangeCreate();

      await sut.create(INPUT, ADMIN, context);

      expect(manager.findOne).toHaveBeenCalledWith(User, {
        where: { id: USER_ID },
        lock: undefined,
      });
    });

    it.each([
      ['user', 'User not found'],
      ['service_account', 'Service account not found'],
    ] as const)(
      'should refuse a %s that does not exist, writing nothing',
      async (principalType, message) => {
        manager.findOne.mockResolvedValueOnce(null);

        const result = sut.create({ ...INPUT, principalType }, ADMIN, context);

        await expect(result).rejects.toThrow(GrantPrincipalNotFoundError);
        await expect(result).rejects.toThrow(message);
        expect(manager.insert).not.toHaveBeenCalled();
        expect(audit.record).not.toHaveBeenCalled();
      },
    );

    it('should refuse a second grant for the same principal and pattern', async () => {
      manager.findOne.mockResolvedValueOnce({ id: USER_ID });
      manager.existsBy.mockResolvedValueOnce(true);

      await expect(sut.create(INPUT, ADMIN, context)).rejects.toThrow(ConflictError);
      expect(manager.existsBy).toHaveBeenCalledWith(AccessGrant, {
        principalType: 'user',
        principalId: USER_ID,
        pathPattern: 'acme/prod/*',
      });
      expect(manager.insert).not.toHaveBeenCalled();
    });

    it('should fail, so the transaction rolls back, when the audit event cannot be written', async () => {
      manager.findOne.mockResolvedValueOnce({ id: USER_ID });
      manager.existsBy.mockResolvedValueOnce(false);
      manager.insert.mockResolvedValueOnce({});
      audit.record.mockRejectedValueOnce(new Error('audit down'));

      await expect(sut.create(INPUT, ADMIN, context)).rejects.toThrow('audit down');
      expect(manager.findOneByOrFail).not.toHaveBeenCalled();
    });

    it.each(['a/**/b', 'A/b', '', 'a//b'])(
      'should refuse the invalid pattern %j before opening a transaction',
      async (pathPattern) => {
        await expect(sut.create({ ...INPUT, pathPattern }, ADMIN, context)).rejects.toThrow(
          InvalidPathPatternError,
        );
        expect(transactions.run).not.toHaveBeenCalled();
      },
    );

    it.each([
      ['no capabilities', []],
      ['an unknown capability', ['read', 'admin']],
      ['a duplicate capability', ['read', 'read']],
    ])('should refuse %s before opening a transaction', async (_case, capabilities) => {
      await expect(
        sut.create({ ...INPUT, capabilities: capabilities as Capability[] }, ADMIN, context),
      ).rejects.toThrow(InvalidCapabilitiesError);
      expect(transactions.run).not.toHaveBeenCalled();
    });
  });

  describe('list', () => {
    it('should answer at most the cap, oldest first, filtered by principal', async () => {
      manager.find.mockResolvedValueOnce([stored()]);

      await expect(
        sut.list({ principalType: 'service_account', principalId: USER_ID }),
      ).resolves.toEqual([stored()]);
      expect(manager.find).toHaveBeenCalledWith(AccessGrant, {
        where: { principalType: 'service_account', principalId: USER_ID },
        order: { createdAt: 'ASC', id: 'ASC' },
        take: GRANT_LIST_MAX,
      });
      expect(GRANT_LIST_MAX).toBe(500);
    });

    it('should not filter when no filter is given', async () => {
      manager.find.mockResolvedValueOnce([]);

      await sut.list({});

      expect(manager.find).toHaveBeenCalledWith(
        AccessGrant,
        expect.objectContaining({ where: {} }),
      );
    });
  });

  describe('get', () => {
    it('should answer the grant', async () => {
      manager.findOneBy.mockResolvedValueOnce(stored());

      await expect(sut.get(GRANT_ID)).resolves.toEqual(stored());
      expect(manager.findOneBy).toHaveBeenCalledWith(AccessGrant, { id: GRANT_ID });
    });

    it('should throw GrantNotFoundError when it does not exist', async () => {
      manager.findOneBy.mockResolvedValueOnce(null);

      await expect(sut.get(GRANT_ID)).rejects.toThrow(GrantNotFoundError);
    });
  });

  describe('remove', () => {
    it('should delete the locked grant and record what it was in the same transaction', async () => {
      manager.findOne.mockResolvedValueOnce(stored({ capabilities: 'reveal,read' }));
      manager.delete.mockResolvedValueOnce({ affected: 1 });
      audit.record.mockResolvedValueOnce(undefined);

      await sut.remove(GRANT_ID, context);

      expect(manager.findOne).toHaveBeenCalledWith(AccessGrant, {
        where: { id: GRANT_ID },
        lock: { mode: 'pessimistic_write' },
      });
      expect(manager.delete).toHaveBeenCalledWith(AccessGrant, { id: GRANT_ID });
      expect(audit.record).toHaveBeenCalledWith(
        {
          action: 'grant.delete',
          outcome: 'success',
          httpStatus: 204,
          resourceType: 'grant',
          resourceId: GRANT_ID,
          details: {
            principalType: 'user',
            principalId: USER_ID,
            pathPattern: 'acme/prod/*',
            capabilities: ['read', 'reveal'],
          },
          context,
        },
        manager,
      );
    });

    it('should throw GrantNotFoundError and write nothing when it does not exist', async () => {
      manager.findOne.mockResolvedValueOnce(null);

      await expect(sut.remove(GRANT_ID, context)).rejects.toThrow(GrantNotFoundError);
      expect(manager.delete).not.toHaveBeenCalled();
      expect(audit.record).not.toHaveBeenCalled();
    });
  });
});
