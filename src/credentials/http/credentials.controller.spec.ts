import { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  actingAs,
  createControllerApp,
  strictFn,
  VALIDATION_ERROR,
} from '../../../test/helpers/controller-app';
import { AuditRequestContext } from '../../audit/audit-context';
import { IS_PUBLIC, ROLES } from '../../common/auth/auth.decorators';
import type { Principal } from '../../common/auth/principal';
import { CredentialLifecycleService } from '../credential-lifecycle.service';
import { CredentialQueryService } from '../credential-query.service';
import {
  CapabilityRequiredError,
  CredentialNotFoundError,
  CredentialPathTakenError,
  CredentialStateError,
  RevealReasonRequiredError,
  VersionMismatchError,
  VersionNotFoundError,
  VersionNotRevealableError,
} from '../credential.errors';
import { CredentialsService } from '../credentials.service';
import { PageCursor } from '../../common/pagination/page-cursor';
import { CREDENTIAL_CURSOR, CredentialListQueryDto } from '../dto/credential-query.dto';
import { CredentialCreateDto, CredentialUpdateDto } from '../dto/credential-write.dto';
import { RevealRequestDto } from '../dto/reveal.dto';
import { Credential } from '../entities/credential.entity';
import { CredentialVersion } from '../entities/credential-version.entity';
import { RevealService } from '../reveal.service';
import { SecretVersionsService } from '../secret-versions.service';
import { CredentialsController } from './credentials.controller';

const ADMIN: Principal = {
  type: 'user',
  id: '9c2d4e6f-8a0b-4c1d-9e2f-3a4b5c6d7e8f',
  email: 'admin@example.com',
  role: 'admin',
  mustChangePassword: false,
  mfaEnabled: false,
};
const CREDENTIAL_ID = '5b1e6c2a-8d3f-4a7b-9c1d-2e3f4a5b6c7d';
const BASE = `/api/v1/credentials/${CREDENTIAL_ID}`;
const PASSWORD = 'correct-horse-battery-staple';

function credential(overrides: Partial<Credential> = {}): Credential {
  return Object.assign(new Credential(), {
    id: CREDENTIAL_ID,
    path: 'acme/prod/mysql-root',
    name: 'ACME production MySQL root',
    type: 'password',
    description: 'Root of the production database',
    username: 'root',
    url: 'https://db.acme.example',
    host: 'db1.acme.internal',
    port: 3306,
    owner: 'dba-team@acme.example',
    metadata: { team: 'dba' },
    secretInfo: null,
    tags: 'mysql,prod',
    expiresAt: new Date('2026-01-01T00:00:00.000Z'),
    status: 'active',
    currentVersion: 3,
    lastVersion: 4,
    rowVersion: 7,
    createdBy: ADMIN.id,
    createdAt: new Date('2025-01-02T03:04:05.000Z'),
    updatedAt: new Date('2025-01-03T03:04:05.000Z'),
    deletedAt: null,
    destroyedAt: null,
    nextRotationAt: new Date('2025-02-01T03:00:00.000Z'),
    rotationStatus: 'scheduled',
    ...overrides,
  });
}

/** CredentialResponseDto.from(credential()): metadata only. */
const CREDENTIAL_BODY = {
  id: CREDENTIAL_ID,
  path: 'acme/prod/mysql-root',
  name: 'ACME production MySQL root',
  type: 'password',
  description: 'Root of the production database',
  username: 'root',
  url: 'https://db.acme.example',
  host: 'db1.acme.internal',
  port: 3306,
  owner: 'dba-team@acme.example',
  tags: ['mysql', 'prod'],
  metadata: { team: 'dba' },
  secretInfo: null,
  expiresAt: '2026-01-01T00:00:00.000Z',
  status: 'active',
  currentVersion: 3,
  createdBy: ADMIN.id,
  createdAt: '2025-01-02T03:04:05.000Z',
  updatedAt: '2025-01-03T03:04:05.000Z',
  deletedAt: null,
  nextRotationAt: '2025-02-01T03:00:00.000Z',
  rotationStatus: 'scheduled',
};

/** Exactly the keys of CredentialResponseDto: no row or last version, no secret, no keys. */
const RESPONSE_KEYS = [
  'createdAt',
  'createdBy',
  'currentVersion',
  'deletedAt',
  'description',
  'expiresAt',
  'host',
  'id',
  'metadata',
  'name',
  'nextRotationAt',
  'owner',
  'path',
  'port',
  'rotationStatus',
  'secretInfo',
  'status',
  'tags',
  'type',
  'updatedAt',
  'url',
  'username',
];

function version(overrides: Partial<CredentialVersion> = {}): CredentialVersion {
  return Object.assign(new CredentialVersion(), {
    credentialId: CREDENTIAL_ID,
    version: 3,
    state: 'current',
    ciphertext: Buffer.from('ciphertext'),
    iv: 'aXYxMjM0NTY3ODkw',
    tag: 'dGFnMTIzNDU2Nzg5MDEyMzQ=',
    wrappedDek: 'd3JhcHBlZC1kZWs=',
    kekId: 'k1',
    fingerprint: 'ab'.repeat(32),
    graceUntil: null,
    revokedAt: null,
    destroyedAt: null,
    createdBy: ADMIN.id,
    createdAt: new Date('2025-01-02T03:04:05.000Z'),
    ...overrides,
  });
}

const REVEALED = {
  id: CREDENTIAL_ID,
  path: 'acme/prod/mysql-root',
  type: 'password',
  version: 3,
  state: 'current',
  secret: { password: PASSWORD },
};

const VALID = {
  path: 'acme/prod/mysql-root',
  name: 'ACME production MySQL root',
  type: 'password',
  secret: { password: PASSWORD },
};

const EVERY_FIELD = {
  ...VALID,
  description: 'Root of the production database',
  username: 'root',
  url: 'https://db.acme.example:3306/admin',
  host: 'db1.acme.internal',
  port: 3306,
  owner: 'dba-team@acme.example',
  tags: ['mysql', 'prod'],
  metadata: { team: 'dba', tier: 1, replicas: ['db2', 'db3'] },
  expiresAt: '2026-01-01T00:00:00Z',
};

function errorBody(statusCode: number, error: string, message: string): Record<string, unknown> {
  return { statusCode, error, message, requestId: expect.any(String) };
}

/** Metadata of exactly `bytes` bytes as JSON. */
function metadataOf(bytes: number): Record<string, string> {
  return { k: 'x'.repeat(bytes - '{"k":""}'.length) };
}

/** `levels` objects nested in one another: `{}` is one level, `{ a: {} }` two. */
function nested(levels: number): Record<string, unknown> {
  return levels === 1 ? {} : { a: nested(levels - 1) };
}

describe('CredentialsController', () => {
  let app: NestFastifyApplication;
  const credentials = {
    create: strictFn('CredentialsService.create'),
    get: strictFn('CredentialsService.get'),
    update: strictFn('CredentialsService.update'),
  };
  const queries = { list: strictFn('CredentialQueryService.list') };
  const versions = {
    replaceSecret: strictFn('SecretVersionsService.replaceSecret'),
    list: strictFn('SecretVersionsService.list'),
  };
  const lifecycle = {
    softDelete: strictFn('CredentialLifecycleService.softDelete'),
    restore: strictFn('CredentialLifecycleService.restore'),
    destroy: strictFn('CredentialLifecycleService.destroy'),
  };
  const reveals = { revealById: strictFn('RevealService.revealById') };
  const services = [
    ...Object.values(credentials),
    ...Object.values(queries),
    ...Object.values(versions),
    ...Object.values(lifecycle),
    ...Object.values(reveals),
  ];
  let lastContext: AuditRequestContext | undefined;

  beforeAll(async () => {
    app = await createControllerApp(
      {
        controllers: [CredentialsController],
        providers: [
          { provide: CredentialsService, useValue: credentials },
          { provide: CredentialQueryService, useValue: queries },
          { provide: SecretVersionsService, useValue: versions },
          { provide: CredentialLifecycleService, useValue: lifecycle },
          { provide: RevealService, useValue: reveals },
        ],
      },
      {
        beforeInit: actingAs(
          () => ADMIN,
          (context) => (lastContext = context),
        ),
      },
    );
  });

  afterAll(async () => {
    await app?.close();
  });

  beforeEach(() => {
    jest.clearAllMocks();
    lastContext = undefined;
  });

  function expectNoServiceCalled(): void {
    for (const service of services) expect(service).not.toHaveBeenCalled();
  }

  describe('route metadata', () => {
    const handlers = Object.getOwnPropertyNames(CredentialsController.prototype).filter(
      (name) => name !== 'constructor',
    ) as (keyof CredentialsController)[];

    it('should require authentication on every route', () => {
      expect(Reflect.getMetadata(IS_PUBLIC, CredentialsController)).toBeUndefined();
      for (const handler of handlers) {
        expect([
          handler,
          Reflect.getMetadata(IS_PUBLIC, CredentialsController.prototype[handler]),
        ]).toEqual([handler, undefined]);
      }
    });

    it('should leave access to grants except for destroy, which is for admins only', () => {
      expect(Reflect.getMetadata(ROLES, CredentialsController)).toBeUndefined();
      for (const handler of handlers) {
        expect([
          handler,
          Reflect.getMetadata(ROLES, CredentialsController.prototype[handler]),
        ]).toEqual([handler, handler === 'destroy' ? ['admin'] : undefined]);
      }
    });
  });

  describe('POST /api/v1/credentials', () => {
    it('should pass the validated body, the creator and the audit context and answer 201 with the metadata', async () => {
      credentials.create.mockResolvedValueOnce(credential());

      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/credentials',
        payload: EVERY_FIELD,
      });

      expect(response.statusCode).toBe(201);
      expect(response.json()).toEqual(CREDENTIAL_BODY);
      expect(credentials.create).toHaveBeenCalledTimes(1);
      const [body, creator, context] = credentials.create.mock.calls[0] as [
        CredentialCreateDto,
        Principal,
        AuditRequestContext,
      ];
      expect(body).toBeInstanceOf(CredentialCreateDto);
      expect(body).toEqual(EVERY_FIELD);
      expect(creator).toEqual(ADMIN);
      expect(context).toBe(lastContext);
    });

    it('should answer exactly the metadata keys and never the secret, even if the entity carries more', async () => {
      credentials.create.mockResolvedValueOnce(
        Object.assign(credential(), {
          secret: { password: PASSWORD },
          ciphertext: Buffer.from(PASSWORD),
          wrappedDek: 'd3JhcHBlZC1kZWs=',
        }),
      );

      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/credentials',
        payload: VALID,
      });

      expect(response.statusCode).toBe(201);
      expect(Object.keys(response.json()).sort()).toEqual(RESPONSE_KEYS);
      expect(response.body).not.toContain(PASSWORD);
    });

    it('should answer empty tags, null dates and null fields as such', async () => {
      credentials.create.mockResolvedValueOnce(
        credential({
          tags: '',
          expiresAt: null,
          description: null,
          username: null,
          url: null,
          host: null,
          port: null,
          owner: null,
          metadata: null,
          secretInfo: { keyType: 'ed25519' },
        }),
      );

      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/credentials',
        payload: VALID,
      });

      expect(response.json()).toEqual({
        ...CREDENTIAL_BODY,
        tags: [],
        expiresAt: null,
        description: null,
        username: null,
        url: null,
        host: null,
        port: null,
        owner: null,
        metadata: null,
        secretInfo: { keyType: 'ed25519' },
      });
    });

    it.each([
      ['path of one segment', { path: 'db' }],
      ['path with dots, underscores and dashes', { path: 'acme.eu/prod_1/mysql-root.v2' }],
      [
        'path of 255 characters',
        { path: `${'a'.repeat(64)}/${'b'.repeat(64)}/${'c'.repeat(64)}/${'d'.repeat(60)}` },
      ],
      ['type of certificate', { type: 'certificate', secret: { certificate: 'PEM' } }],
      ['port of 1', { port: 1 }],
      ['port of 65535', { port: 65535 }],
      ['url without a top-level domain', { url: 'http://localhost:8080' }],
      ['host that is an IPv4 address', { host: '10.0.0.12' }],
      ['host that is a bracketed IPv6 address', { host: '[fd00::12]' }],
      ['list of 20 tags', { tags: Array.from({ length: 20 }, (_, i) => `tag-${i}`) }],
      ['tag with dots, colons and underscores', { tags: ['env:prod', 'db.mysql_8'] }],
      ['metadata of exactly 8192 bytes', { metadata: metadataOf(8192) }],
      ['metadata five levels deep', { metadata: nested(5) }],
      ['expiresAt with a time zone offset', { expiresAt: '2026-01-01T01:00:00+01:00' }],
      [
        'null for every nullable field',
        {
          description: null,
          username: null,
          url: null,
          host: null,
          port: null,
          owner: null,
          metadata: null,
          expiresAt: null,
        },
      ],
    ])('should accept a %s', async (_case, change) => {
      credentials.create.mockResolvedValueOnce(credential());

      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/credentials',
        payload: { ...VALID, ...change },
      });

      expect(response.statusCode).toBe(201);
      expect(credentials.create).toHaveBeenCalledWith(
        expect.objectContaining(change),
        ADMIN,
        expect.any(AuditRequestContext),
      );
    });

    it.each([
      ['an unknown field', { ...VALID, rowVersion: 1 }, 'rowVersion'],
      ['a field named constructor', { ...VALID, constructor: 'x' }, 'constructor'],
      ['a field named hasOwnProperty', { ...VALID, hasOwnProperty: 1 }, 'hasOwnProperty'],
      [
        'a secret field named toString',
        { ...VALID, secret: { password: PASSWORD, toString: 'x' } },
        'secret.toString',
      ],
      [
        'a secret field named valueOf',
        { ...VALID, secret: { password: PASSWORD, valueOf: 'x' } },
        'secret.valueOf',
      ],
      [
        'a secret field named constructor',
        { ...VALID, secret: { password: PASSWORD, constructor: 'x' } },
        'secret.constructor',
      ],
      [
        'a metadata key named toString',
        { ...VALID, metadata: { toString: 'x' } },
        'metadata.toString',
      ],
      ['null tags', { ...VALID, tags: null }, 'tags'],
      ['a currentVersion', { ...VALID, currentVersion: 7 }, 'currentVersion'],
      ['an id', { ...VALID, id: CREDENTIAL_ID }, 'id'],
      ['a status', { ...VALID, status: 'deleted' }, 'status'],
      ['a missing path', { ...VALID, path: undefined }, 'path'],
      ['a path with upper case', { ...VALID, path: 'Acme/prod/db' }, 'path'],
      ['a path with a .. segment', { ...VALID, path: 'acme/../db' }, 'path'],
      ['a path with a . segment', { ...VALID, path: 'acme/./db' }, 'path'],
      ['a path with an empty segment', { ...VALID, path: 'acme//db' }, 'path'],
      ['a path with a leading /', { ...VALID, path: '/acme/db' }, 'path'],
      ['a path with a trailing /', { ...VALID, path: 'acme/db/' }, 'path'],
      ['an empty path', { ...VALID, path: '' }, 'path'],
      ['a path longer than 255', { ...VALID, path: `${'ab/'.repeat(85)}ab` }, 'path'],
      ['a segment longer than 64', { ...VALID, path: `acme/${'a'.repeat(65)}` }, 'path'],
      ['a path with a wildcard', { ...VALID, path: 'acme/*' }, 'path'],
      ['a path with a space', { ...VALID, path: 'acme/my db' }, 'path'],
      ['a path that is not a string', { ...VALID, path: ['acme', 'db'] }, 'path'],
      ['a missing name', { ...VALID, name: undefined }, 'name'],
      ['an empty name', { ...VALID, name: '' }, 'name'],
      ['a name longer than 200', { ...VALID, name: 'n'.repeat(201) }, 'name'],
      ['a missing type', { ...VALID, type: undefined }, 'type'],
      ['a type not in the list', { ...VALID, type: 'ftp' }, 'type'],
      ['a type in upper case', { ...VALID, type: 'PASSWORD' }, 'type'],
      ['a missing secret', { ...VALID, secret: undefined }, 'secret'],
      ['a secret that is a string', { ...VALID, secret: PASSWORD }, 'secret'],
      ['a secret that is an array', { ...VALID, secret: [PASSWORD] }, 'secret'],
      ['a secret that is null', { ...VALID, secret: null }, 'secret'],
      ['a secret that is a number', { ...VALID, secret: 42 }, 'secret'],
      ['tags that are a string', { ...VALID, tags: 'prod' }, 'tags'],
      ['a tag with upper case', { ...VALID, tags: ['Prod'] }, 'tags'],
      ['an empty tag', { ...VALID, tags: [''] }, 'tags'],
      ['a tag longer than 64', { ...VALID, tags: ['t'.repeat(65)] }, 'tags'],
      ['a tag starting with a dash', { ...VALID, tags: ['-prod'] }, 'tags'],
      ['a tag that is a number', { ...VALID, tags: [1] }, 'tags'],
      ['a tag that is an object', { ...VALID, tags: [{ tag: 'prod' }] }, 'tags'],
      [
        'more than 20 tags',
        { ...VALID, tags: Array.from({ length: 21 }, (_, i) => `tag-${i}`) },
        'tags',
      ],
      ['duplicate tags', { ...VALID, tags: ['prod', 'mysql', 'prod'] }, 'tags'],
      ['metadata larger than 8192 bytes', { ...VALID, metadata: metadataOf(8193) }, 'metadata'],
      ['metadata that is an array', { ...VALID, metadata: [{ team: 'dba' }] }, 'metadata'],
      ['metadata that is a string', { ...VALID, metadata: 'team=dba' }, 'metadata'],
      ['metadata deeper than five levels', { ...VALID, metadata: nested(6) }, 'metadata'],
      ['a port of 0', { ...VALID, port: 0 }, 'port'],
      ['a negative port', { ...VALID, port: -1 }, 'port'],
      ['a port above 65535', { ...VALID, port: 65536 }, 'port'],
      ['a port that is not an integer', { ...VALID, port: 3306.5 }, 'port'],
      ['a port that is a string', { ...VALID, port: '3306' }, 'port'],
      ['a url without a protocol', { ...VALID, url: 'db.acme.example' }, 'url'],
      ['a javascript: url', { ...VALID, url: 'javascript:alert(1)' }, 'url'],
      ['a url that is not a string', { ...VALID, url: { href: 'https://x' } }, 'url'],
      ['a url longer than 2048', { ...VALID, url: `https://a.example/${'p'.repeat(2040)}` }, 'url'],
      // The url is stored and answered in plaintext: a password in it would leak the secret.
      [
        'a url with a password in it',
        { ...VALID, url: 'https://root:hunter2@db.acme.example' },
        'url',
      ],
      ['a host with a space', { ...VALID, host: 'db1 acme' }, 'host'],
      ['a host with a scheme', { ...VALID, host: 'https://db1.acme.internal' }, 'host'],
      [
        'a description longer than 2000',
        { ...VALID, description: 'd'.repeat(2001) },
        'description',
      ],
      ['a username that is a number', { ...VALID, username: 0 }, 'username'],
      ['an owner longer than 255', { ...VALID, owner: 'o'.repeat(256) }, 'owner'],
      ['an expiresAt that is not ISO 8601', { ...VALID, expiresAt: 'next year' }, 'expiresAt'],
      ['an expiresAt that is not a real date', { ...VALID, expiresAt: '2025-02-30' }, 'expiresAt'],
      ['an expiresAt that is a number', { ...VALID, expiresAt: 1767225600000 }, 'expiresAt'],
    ])(
      'should answer 400 naming the field for %s without calling the service',
      async (_case, payload, field) => {
        const response = await app.inject({ method: 'POST', url: '/api/v1/credentials', payload });

        expect(response.statusCode).toBe(400);
        const body = response.json();
        expect(body).toEqual(VALIDATION_ERROR);
        expect(body.fields).toEqual([{ field, errors: expect.any(Array) }]);
        expectNoServiceCalled();
      },
    );

    it('should say what is wrong with a path', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/credentials',
        payload: { ...VALID, path: 'acme/../db' },
      });

      expect(response.json().fields).toEqual([
        { field: 'path', errors: ["path is not a valid path: segment 2 is '..'"] },
      ]);
    });

    it('should refuse a body nested thousands of levels deep with 400, not a stack overflow', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/credentials',
        headers: { 'content-type': 'application/json' },
        payload: `{"path":"acme/db","secret":${'{"a":'.repeat(2400)}1${'}'.repeat(2400)}}`,
      });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        ...VALIDATION_ERROR,
        fields: [{ field: '(body)', errors: ['the body is nested deeper than 32 levels'] }],
      });
      expectNoServiceCalled();
    });

    it('should never echo the secret in a validation error', async () => {
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/credentials',
        payload: { ...VALID, type: 'ftp', port: 'x', extra: PASSWORD },
      });

      expect(response.statusCode).toBe(400);
      expect(response.body).not.toContain(PASSWORD);
    });

    it.each([
      ['an array', ['acme/prod/db']],
      ['a string', 'acme/prod/db'],
    ])('should answer 400 for a body that is %s', async (_case, payload) => {
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/credentials',
        headers: { 'content-type': 'application/json' },
        payload: JSON.stringify(payload),
      });

      expect(response.statusCode).toBe(400);
      expectNoServiceCalled();
    });

    it.each([
      [
        'the path is taken',
        new CredentialPathTakenError(),
        409,
        'Conflict',
        'A credential with this path exists (it may be deleted: restore or destroy it first)',
      ],
      [
        'the caller may not write at the path',
        new CapabilityRequiredError('write'),
        403,
        'Forbidden',
        "This needs the 'write' capability on the credential's path",
      ],
    ])('should answer %s as %s', async (_case, error, status, name, message) => {
      credentials.create.mockRejectedValueOnce(error);

      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/credentials',
        payload: VALID,
      });

      expect(response.statusCode).toBe(status);
      expect(response.json()).toEqual(errorBody(status, name, message));
    });
  });

  describe('GET /api/v1/credentials', () => {
    it('should pass the parsed filters and the caller and answer the page as metadata', async () => {
      queries.list.mockResolvedValueOnce({
        items: [credential(), credential({ id: ADMIN.id, tags: '' })],
        nextCursor: 'eyJwIjoiYWNtZS9wcm9kIn0',
        total: 7,
      });

      const response = await app.inject({
        method: 'GET',
        url: '/api/v1/credentials',
        query: {
          pathPrefix: 'acme/prod/',
          type: 'password',
          tag: 'prod',
          expiringBefore: '2026-01-01T00:00:00Z',
          rotationDueBefore: '2026-02-01T00:00:00Z',
          rotationStatus: 'failed',
          q: 'MySQL',
          deleted: 'false',
          limit: '25',
          cursor: CREDENTIAL_CURSOR.encode('acme/dev'),
        },
      });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({
        items: [CREDENTIAL_BODY, { ...CREDENTIAL_BODY, id: ADMIN.id, tags: [] }],
        nextCursor: 'eyJwIjoiYWNtZS9wcm9kIn0',
        total: 7,
      });
      for (const item of response.json().items) {
        expect(Object.keys(item).sort()).toEqual(RESPONSE_KEYS);
      }
      const [query, caller] = queries.list.mock.calls[0] as [CredentialListQueryDto, Principal];
      expect(query).toBeInstanceOf(CredentialListQueryDto);
      expect(query).toEqual({
        pathPrefix: 'acme/prod/',
        type: 'password',
        tag: 'prod',
        expiringBefore: '2026-01-01T00:00:00Z',
        rotationDueBefore: '2026-02-01T00:00:00Z',
        rotationStatus: 'failed',
        q: 'MySQL',
        deleted: false,
        limit: 25,
        cursor: CREDENTIAL_CURSOR.encode('acme/dev'),
      });
      expect(caller).toEqual(ADMIN);
    });

    it('should list without filters', async () => {
      queries.list.mockResolvedValueOnce({ items: [], nextCursor: null, total: 0 });

      const response = await app.inject({ method: 'GET', url: '/api/v1/credentials' });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ items: [], nextCursor: null, total: 0 });
      expect(queries.list.mock.calls[0][0]).toEqual({});
    });

    it.each([
      ['deleted=true', { deleted: true }],
      ['rotationStatus=awaiting_value', { rotationStatus: 'awaiting_value' }],
      [
        'rotationDueBefore=2026-12-01T00:00:00.000Z',
        { rotationDueBefore: '2026-12-01T00:00:00.000Z' },
      ],
      ['limit=1', { limit: 1 }],
      ['limit=200', { limit: 200 }],
    ])('should read %s', async (query, expected) => {
      queries.list.mockResolvedValueOnce({ items: [], nextCursor: null, total: 0 });

      const response = await app.inject({ method: 'GET', url: `/api/v1/credentials?${query}` });

      expect(response.statusCode).toBe(200);
      expect(queries.list.mock.calls[0][0]).toEqual(expected);
    });

    it.each([
      ['a limit of 0', 'limit=0', 'limit'],
      ['a limit of 201', 'limit=201', 'limit'],
      ['a limit that is not a number', 'limit=abc', 'limit'],
      ['a limit that is not an integer', 'limit=1.5', 'limit'],
      ['a negative limit', 'limit=-1', 'limit'],
      ['a cursor with characters no cursor has', 'cursor=%27%20OR%201%3D1', 'cursor'],
      ['a long run of letters as the cursor', `cursor=${'a'.repeat(401)}`, 'cursor'],
      ['an empty cursor', 'cursor=', 'cursor'],
      ['a garbage cursor', 'cursor=garbage', 'cursor'],
      [
        'a cursor of another list',
        `cursor=${new PageCursor('users', () => true).encode('a')}`,
        'cursor',
      ],
      ['a cursor holding no path', `cursor=${CREDENTIAL_CURSOR.encode('../etc')}`, 'cursor'],
      ['deleted=maybe', 'deleted=maybe', 'deleted'],
      ['deleted=1', 'deleted=1', 'deleted'],
      ['an unknown type', 'type=ftp', 'type'],
      ['a pathPrefix with upper case', 'pathPrefix=Acme', 'pathPrefix'],
      ['a pathPrefix with a LIKE wildcard', 'pathPrefix=acme%25', 'pathPrefix'],
      ['a tag with upper case', 'tag=Prod', 'tag'],
      ['an expiringBefore that is not ISO 8601', 'expiringBefore=soon', 'expiringBefore'],
      [
        'a rotationDueBefore that is not ISO 8601',
        'rotationDueBefore=tomorrow',
        'rotationDueBefore',
      ],
      [
        'a rotationDueBefore given twice',
        'rotationDueBefore=2026-01-01&rotationDueBefore=2026-02-01',
        'rotationDueBefore',
      ],
      ['an unknown rotationStatus', 'rotationStatus=due', 'rotationStatus'],
      ['an empty q', 'q=', 'q'],
      ['a q longer than 100', `q=${'q'.repeat(101)}`, 'q'],
      ['a type given twice', 'type=password&type=jwt', 'type'],
      ['an unknown query parameter', 'sort=path', 'sort'],
    ])('should answer 400 for %s', async (_case, query, field) => {
      const response = await app.inject({ method: 'GET', url: `/api/v1/credentials?${query}` });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        ...VALIDATION_ERROR,
        fields: [{ field, errors: expect.any(Array) }],
      });
      expectNoServiceCalled();
    });
  });

  describe('GET /api/v1/credentials/:id', () => {
    it('should pass the id and the caller and answer the metadata', async () => {
      credentials.get.mockResolvedValueOnce(credential());

      const response = await app.inject({ method: 'GET', url: BASE });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual(CREDENTIAL_BODY);
      expect(credentials.get).toHaveBeenCalledWith(CREDENTIAL_ID, ADMIN);
    });

    it('should answer 404 when it does not exist or the caller may not read it', async () => {
      credentials.get.mockRejectedValueOnce(new CredentialNotFoundError());

      const response = await app.inject({ method: 'GET', url: BASE });

      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual(errorBody(404, 'Not Found', 'Credential not found'));
    });
  });

  describe('PATCH /api/v1/credentials/:id', () => {
    it('should pass the id, the validated changes, the caller and the audit context', async () => {
      credentials.update.mockResolvedValueOnce(credential({ name: 'Renamed' }));
      const changes = {
        name: 'Renamed',
        path: 'acme/prod/mysql-admin',
        description: null,
        port: null,
        tags: ['prod'],
        metadata: null,
        expiresAt: null,
      };

      const response = await app.inject({ method: 'PATCH', url: BASE, payload: changes });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ ...CREDENTIAL_BODY, name: 'Renamed' });
      const [id, body, caller, context] = credentials.update.mock.calls[0] as [
        string,
        CredentialUpdateDto,
        Principal,
        AuditRequestContext,
      ];
      expect(id).toBe(CREDENTIAL_ID);
      expect(body).toBeInstanceOf(CredentialUpdateDto);
      expect(body).toEqual(changes);
      expect(caller).toEqual(ADMIN);
      expect(context).toBe(lastContext);
    });

    it('should pass an empty change', async () => {
      credentials.update.mockResolvedValueOnce(credential());

      const response = await app.inject({ method: 'PATCH', url: BASE, payload: {} });

      expect(response.statusCode).toBe(200);
      expect(credentials.update.mock.calls[0][1]).toEqual({});
    });

    it.each([
      ['a secret (changed with PUT …/secret)', { secret: { password: PASSWORD } }, 'secret'],
      ['a type (fixed at creation)', { type: 'api_key' }, 'type'],
      ['a status', { status: 'active' }, 'status'],
      ['a currentVersion', { currentVersion: 1 }, 'currentVersion'],
      ['a path with upper case', { path: 'Acme/db' }, 'path'],
      ['a path with a .. segment', { path: 'acme/../db' }, 'path'],
      ['an empty name', { name: '' }, 'name'],
      // name and path are required columns: null cannot clear them.
      ['a null name', { name: null }, 'name'],
      ['a null path', { path: null }, 'path'],
      ['a port that is a string', { port: '80' }, 'port'],
      ['a url without a protocol', { url: 'db.acme.example' }, 'url'],
      ['duplicate tags', { tags: ['a', 'a'] }, 'tags'],
      ['metadata that is an array', { metadata: [] }, 'metadata'],
      ['an expiresAt that is not ISO 8601', { expiresAt: 'tomorrow' }, 'expiresAt'],
      // Tags are a list, not a nullable column: [] clears them.
      ['null tags', { tags: null }, 'tags'],
      ['a field named constructor', { constructor: { name: 'x' } }, 'constructor'],
      ['a field named toString', { toString: 'x' }, 'toString'],
    ])('should answer 400 naming the field for %s', async (_case, payload, field) => {
      const response = await app.inject({ method: 'PATCH', url: BASE, payload });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        ...VALIDATION_ERROR,
        fields: [{ field, errors: expect.any(Array) }],
      });
      expectNoServiceCalled();
    });

    it.each([
      ['the new path is taken', new CredentialPathTakenError(), 409],
      ['the caller may not write', new CapabilityRequiredError('write'), 403],
      ['the credential does not exist', new CredentialNotFoundError(), 404],
    ])('should answer when %s', async (_case, error, status) => {
      credentials.update.mockRejectedValueOnce(error);

      const response = await app.inject({ method: 'PATCH', url: BASE, payload: { name: 'x' } });

      expect(response.statusCode).toBe(status);
      expect(response.json()).toEqual({
        statusCode: status,
        error: expect.any(String),
        message: error.message,
        requestId: expect.any(String),
      });
    });
  });

  describe('DELETE /api/v1/credentials/:id', () => {
    it('should soft delete and answer 204 with no body', async () => {
      lifecycle.softDelete.mockResolvedValueOnce(undefined);

      const response = await app.inject({ method: 'DELETE', url: BASE });

      expect(response.statusCode).toBe(204);
      expect(response.body).toBe('');
      expect(lifecycle.softDelete).toHaveBeenCalledWith(CREDENTIAL_ID, ADMIN, lastContext);
    });

    it.each([
      ['it does not exist', new CredentialNotFoundError(), 404],
      ['the caller may not delete', new CapabilityRequiredError('delete'), 403],
    ])('should answer when %s', async (_case, error, status) => {
      lifecycle.softDelete.mockRejectedValueOnce(error);

      const response = await app.inject({ method: 'DELETE', url: BASE });

      expect(response.statusCode).toBe(status);
      expect(response.json()).toMatchObject({ statusCode: status, message: error.message });
    });
  });

  describe('PUT /api/v1/credentials/:id/secret', () => {
    const SECRET = { secret: { password: 'a-brand-new-password' } };

    it('should pass the secret without an expected version when there is no If-Match', async () => {
      versions.replaceSecret.mockResolvedValueOnce(credential({ currentVersion: 4 }));

      const response = await app.inject({ method: 'PUT', url: `${BASE}/secret`, payload: SECRET });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual({ ...CREDENTIAL_BODY, currentVersion: 4 });
      expect(Object.keys(response.json()).sort()).toEqual(RESPONSE_KEYS);
      expect(response.body).not.toContain('a-brand-new-password');
      expect(versions.replaceSecret).toHaveBeenCalledWith(
        CREDENTIAL_ID,
        SECRET.secret,
        undefined,
        ADMIN,
        lastContext,
      );
    });

    it.each([
      ['3', 3],
      ['"3"', 3],
      ['W/"3"', 3],
      [' 12 ', 12],
      ['*', undefined],
    ])('should pass If-Match %s to the service as %s', async (ifMatch, expected) => {
      versions.replaceSecret.mockResolvedValueOnce(credential({ currentVersion: 4 }));

      const response = await app.inject({
        method: 'PUT',
        url: `${BASE}/secret`,
        headers: { 'if-match': ifMatch },
        payload: SECRET,
      });

      expect(response.statusCode).toBe(200);
      const expectedVersion: unknown = versions.replaceSecret.mock.calls[0][2];
      expect(expectedVersion).toBe(expected);
    });

    it.each([['abc'], ['-1'], ['1.5'], ['"3", "4"'], ['12345678901']])(
      'should answer 400 for If-Match %s without calling the service',
      async (ifMatch) => {
        const response = await app.inject({
          method: 'PUT',
          url: `${BASE}/secret`,
          headers: { 'if-match': ifMatch },
          payload: SECRET,
        });

        expect(response.statusCode).toBe(400);
        expect(response.json()).toEqual(
          errorBody(400, 'Bad Request', 'If-Match must be a version number, e.g. 3 or "3"'),
        );
        expectNoServiceCalled();
      },
    );

    it('should answer 412 when the secret changed since the version in If-Match', async () => {
      versions.replaceSecret.mockRejectedValueOnce(new VersionMismatchError('3', 4));

      const response = await app.inject({
        method: 'PUT',
        url: `${BASE}/secret`,
        headers: { 'if-match': '3' },
        payload: SECRET,
      });

      expect(response.statusCode).toBe(412);
      expect(response.json()).toEqual(
        errorBody(412, 'Precondition Failed', 'If-Match is 3 but the current version is 4'),
      );
    });

    it.each([
      ['the credential does not exist', new CredentialNotFoundError(), 404],
      ['the caller may not write', new CapabilityRequiredError('write'), 403],
    ])('should answer when %s', async (_case, error, status) => {
      versions.replaceSecret.mockRejectedValueOnce(error);

      const response = await app.inject({ method: 'PUT', url: `${BASE}/secret`, payload: SECRET });

      expect(response.statusCode).toBe(status);
      expect(response.json()).toMatchObject({ statusCode: status, message: error.message });
    });

    it.each([
      ['a missing secret', {}, 'secret'],
      ['a secret that is a string', { secret: PASSWORD }, 'secret'],
      ['a secret that is an array', { secret: [PASSWORD] }, 'secret'],
      ['a secret that is null', { secret: null }, 'secret'],
      ['an unknown field', { ...SECRET, version: 4 }, 'version'],
      ['a metadata field', { ...SECRET, name: 'x' }, 'name'],
    ])('should answer 400 naming the field for %s', async (_case, payload, field) => {
      const response = await app.inject({ method: 'PUT', url: `${BASE}/secret`, payload });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        ...VALIDATION_ERROR,
        fields: [{ field, errors: expect.any(Array) }],
      });
      expect(response.body).not.toContain(PASSWORD);
      expectNoServiceCalled();
    });
  });

  describe('GET /api/v1/credentials/:id/versions', () => {
    it('should answer the history as states and dates, never values or key material', async () => {
      versions.list.mockResolvedValueOnce([
        version({ version: 4 }),
        version({
          version: 3,
          state: 'previous',
          graceUntil: new Date('2025-01-03T00:00:00.000Z'),
        }),
        version({
          version: 2,
          state: 'revoked',
          revokedAt: new Date('2025-01-02T00:00:00.000Z'),
        }),
        version({
          version: 1,
          state: 'destroyed',
          ciphertext: null,
          iv: null,
          tag: null,
          wrappedDek: null,
          kekId: 'k1',
          fingerprint: null,
          destroyedAt: new Date('2025-01-04T00:00:00.000Z'),
          createdBy: null,
        }),
      ]);

      const response = await app.inject({ method: 'GET', url: `${BASE}/versions` });

      expect(response.statusCode).toBe(200);
      const row = {
        revealable: false,
        keyId: 'k1',
        createdBy: ADMIN.id,
        createdAt: '2025-01-02T03:04:05.000Z',
        graceUntil: null,
        revokedAt: null,
        destroyedAt: null,
      };
      expect(response.json()).toEqual({
        items: [
          { ...row, version: 4, state: 'current', revealable: true },
          {
            ...row,
            version: 3,
            state: 'previous',
            revealable: true,
            graceUntil: '2025-01-03T00:00:00.000Z',
          },
          { ...row, version: 2, state: 'revoked', revokedAt: '2025-01-02T00:00:00.000Z' },
          {
            ...row,
            version: 1,
            state: 'destroyed',
            keyId: null,
            createdBy: null,
            destroyedAt: '2025-01-04T00:00:00.000Z',
          },
        ],
        nextCursor: null,
      });
      expect(response.body).not.toMatch(/ciphertext|wrappedDek|fingerprint|"iv"|"tag"/);
      expect(versions.list).toHaveBeenCalledWith(CREDENTIAL_ID, ADMIN);
    });

    it.each([['limit=5'], ['cursor=abc'], ['constructor=1']])(
      'should refuse %s, as the history takes no parameters',
      async (query) => {
        const response = await app.inject({ method: 'GET', url: `${BASE}/versions?${query}` });

        expect(response.statusCode).toBe(400);
        expect(response.json()).toEqual({
          ...VALIDATION_ERROR,
          fields: [{ field: query.split('=')[0], errors: expect.any(Array) }],
        });
        expectNoServiceCalled();
      },
    );

    it('should answer 404 when the credential does not exist', async () => {
      versions.list.mockRejectedValueOnce(new CredentialNotFoundError());

      const response = await app.inject({ method: 'GET', url: `${BASE}/versions` });

      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual(errorBody(404, 'Not Found', 'Credential not found'));
    });
  });

  describe('POST /api/v1/credentials/:id/reveal', () => {
    it('should pass the request, the caller and the audit context and answer 200 with the secret', async () => {
      reveals.revealById.mockResolvedValueOnce(REVEALED);

      const response = await app.inject({
        method: 'POST',
        url: `${BASE}/reveal`,
        payload: { version: 3, reason: 'INC-42: rotate the replica by hand' },
      });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual(REVEALED);
      const [id, body, caller, context] = reveals.revealById.mock.calls[0] as [
        string,
        RevealRequestDto,
        Principal,
        AuditRequestContext,
      ];
      expect(id).toBe(CREDENTIAL_ID);
      expect(body).toBeInstanceOf(RevealRequestDto);
      expect(body).toEqual({ version: 3, reason: 'INC-42: rotate the replica by hand' });
      expect(caller).toEqual(ADMIN);
      expect(context).toBe(lastContext);
    });

    it('should tell caches not to keep the secret', async () => {
      reveals.revealById.mockResolvedValueOnce(REVEALED);

      const response = await app.inject({ method: 'POST', url: `${BASE}/reveal`, payload: {} });

      expect(response.statusCode).toBe(200);
      expect(response.headers['cache-control']).toBe('no-store');
    });

    it.each([
      ['an empty body', {}, {}],
      ['no body at all', undefined, {}],
      ['an empty JSON body', '', { 'content-type': 'application/json' }],
    ])('should reveal the current version for %s', async (_case, payload, headers) => {
      reveals.revealById.mockResolvedValueOnce(REVEALED);

      const response = await app.inject({
        method: 'POST',
        url: `${BASE}/reveal`,
        payload,
        headers,
      });

      expect(response.statusCode).toBe(200);
      const [, body] = reveals.revealById.mock.calls[0] as [string, RevealRequestDto];
      expect(body).toEqual({});
    });

    it.each([
      ['a version of 0', { version: 0 }, 'version'],
      ['a negative version', { version: -1 }, 'version'],
      ['a version that is not an integer', { version: 1.5 }, 'version'],
      ['a version that is a string', { version: '2' }, 'version'],
      ['a version above the int range', { version: 2_147_483_648 }, 'version'],
      ['an empty reason', { reason: '' }, 'reason'],
      ['a reason of only spaces', { reason: '   ' }, 'reason'],
      ['a reason longer than 500', { reason: 'r'.repeat(501) }, 'reason'],
      ['a reason that is a number', { reason: 42 }, 'reason'],
      ['an unknown field', { state: 'revoked' }, 'state'],
      ['a null version', { version: null }, 'version'],
      ['a null reason', { reason: null }, 'reason'],
    ])('should answer 400 naming the field for %s', async (_case, payload, field) => {
      const response = await app.inject({ method: 'POST', url: `${BASE}/reveal`, payload });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({
        ...VALIDATION_ERROR,
        fields: [{ field, errors: expect.any(Array) }],
      });
      expectNoServiceCalled();
    });

    it('should accept a reason of 500 characters', async () => {
      reveals.revealById.mockResolvedValueOnce(REVEALED);

      const response = await app.inject({
        method: 'POST',
        url: `${BASE}/reveal`,
        payload: { reason: 'r'.repeat(500) },
      });

      expect(response.statusCode).toBe(200);
    });

    it.each([
      [
        'the version is not revealable',
        new VersionNotRevealableError(2, 'revoked'),
        409,
        'Conflict',
        'Version 2 is revoked and cannot be revealed',
      ],
      [
        'a reason is required',
        new RevealReasonRequiredError(),
        400,
        'Bad Request',
        'A reason is required to reveal a secret',
      ],
      [
        'the version does not exist',
        new VersionNotFoundError(9),
        404,
        'Not Found',
        'Version 9 not found',
      ],
      [
        'the caller may read but not reveal',
        new CapabilityRequiredError('reveal'),
        403,
        'Forbidden',
        "This needs the 'reveal' capability on the credential's path",
      ],
      [
        'the credential does not exist',
        new CredentialNotFoundError(),
        404,
        'Not Found',
        'Credential not found',
      ],
    ])('should answer when %s', async (_case, error, status, name, message) => {
      reveals.revealById.mockRejectedValueOnce(error);

      const response = await app.inject({ method: 'POST', url: `${BASE}/reveal`, payload: {} });

      expect(response.statusCode).toBe(status);
      expect(response.json()).toEqual(errorBody(status, name, message));
    });
  });

  describe('POST /api/v1/credentials/:id/restore', () => {
    it('should restore and answer 200 with the metadata', async () => {
      lifecycle.restore.mockResolvedValueOnce(credential());

      const response = await app.inject({ method: 'POST', url: `${BASE}/restore` });

      expect(response.statusCode).toBe(200);
      expect(response.json()).toEqual(CREDENTIAL_BODY);
      expect(lifecycle.restore).toHaveBeenCalledWith(CREDENTIAL_ID, ADMIN, lastContext);
    });

    it('should take an empty body sent as JSON, as it needs none', async () => {
      lifecycle.restore.mockResolvedValueOnce(credential());

      const response = await app.inject({
        method: 'POST',
        url: `${BASE}/restore`,
        headers: { 'content-type': 'application/json' },
        payload: '',
      });

      expect(response.statusCode).toBe(200);
    });

    it.each([
      [
        'it is not deleted',
        new CredentialStateError('Only a deleted credential can be restored'),
        409,
      ],
      ['its path was taken meanwhile', new CredentialPathTakenError(), 409],
      ['it does not exist', new CredentialNotFoundError(), 404],
    ])('should answer when %s', async (_case, error, status) => {
      lifecycle.restore.mockRejectedValueOnce(error);

      const response = await app.inject({ method: 'POST', url: `${BASE}/restore` });

      expect(response.statusCode).toBe(status);
      expect(response.json()).toMatchObject({ statusCode: status, message: error.message });
    });
  });

  describe('POST /api/v1/credentials/:id/destroy', () => {
    it('should destroy and answer 204 with no body', async () => {
      lifecycle.destroy.mockResolvedValueOnce(undefined);

      const response = await app.inject({ method: 'POST', url: `${BASE}/destroy` });

      expect(response.statusCode).toBe(204);
      expect(response.body).toBe('');
      expect(lifecycle.destroy).toHaveBeenCalledWith(CREDENTIAL_ID, ADMIN, lastContext);
    });

    it('should answer 404 when it does not exist', async () => {
      lifecycle.destroy.mockRejectedValueOnce(new CredentialNotFoundError());

      const response = await app.inject({ method: 'POST', url: `${BASE}/destroy` });

      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual(errorBody(404, 'Not Found', 'Credential not found'));
    });
  });

  describe('every route with an id', () => {
    const ROUTES: [string, 'GET' | 'PATCH' | 'DELETE' | 'PUT' | 'POST', string, object?][] = [
      ['GET', 'GET', ''],
      ['PATCH', 'PATCH', '', { name: 'x' }],
      ['DELETE', 'DELETE', ''],
      ['PUT …/secret', 'PUT', '/secret', { secret: { password: PASSWORD } }],
      ['GET …/versions', 'GET', '/versions'],
      ['POST …/reveal', 'POST', '/reveal', {}],
      ['POST …/restore', 'POST', '/restore'],
      ['POST …/destroy', 'POST', '/destroy'],
    ];
    const BAD_IDS = [
      'not-a-uuid',
      '42',
      // A version 1 UUID: ids are v4.
      '3f1f6f0f-2a11-1c1e-9a57-5b8f3c2e0d7a',
      `${CREDENTIAL_ID}0`,
      '%27%20OR%201%3D1',
    ];

    it.each(
      ROUTES.flatMap(([name, method, suffix, payload]) =>
        BAD_IDS.map((id) => [name, id, method, suffix, payload] as const),
      ),
    )('should reject a bad id on %s: %s', async (_name, id, method, suffix, payload) => {
      const response = await app.inject({
        method,
        url: `/api/v1/credentials/${id}${suffix}`,
        headers: { 'if-match': '3' },
        payload,
      });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual(
        errorBody(400, 'Bad Request', expect.stringContaining('uuid') as string),
      );
      expectNoServiceCalled();
    });
  });
});
