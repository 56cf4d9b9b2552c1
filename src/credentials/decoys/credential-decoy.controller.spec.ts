import { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  actingAs,
  createControllerApp,
  strictFn,
  VALIDATION_ERROR,
} from '../../../test/helpers/controller-app';
import { IS_PUBLIC, ROLES } from '../../common/auth/auth.decorators';
import type { Principal } from '../../common/auth/principal';
import { CredentialNotFoundError } from '../credential.errors';
import { CredentialDecoyController } from './credential-decoy.controller';
import { CredentialDecoyService } from './credential-decoy.service';

const ADMIN: Principal = {
  type: 'user',
  id: '9c2d4e6f-8a0b-4c1d-9e2f-3a4b5c6d7e8f',
  email: 'admin@example.com',
  role: 'admin',
  mustChangePassword: false,
  mfaEnabled: false,
};
const ID = '5b1e6c2a-8d3f-4a7b-9c1d-2e3f4a5b6c7d';

describe('CredentialDecoyController', () => {
  let app: NestFastifyApplication;
  const decoys = { isDecoy: strictFn('isDecoy'), set: strictFn('set') };

  beforeAll(async () => {
    app = await createControllerApp(
      {
        controllers: [CredentialDecoyController],
        providers: [{ provide: CredentialDecoyService, useValue: decoys }],
      },
      { beforeInit: actingAs(() => ADMIN) },
    );
  });

  afterAll(async () => {
    await app?.close();
  });

  afterEach(() => jest.clearAllMocks());

  it('should require authentication', () => {
    expect(Reflect.getMetadata(IS_PUBLIC, CredentialDecoyController)).toBeUndefined();
  });

  it('should be for admins only, so no one else can tell a decoy', () => {
    expect(Reflect.getMetadata(ROLES, CredentialDecoyController)).toEqual(['admin']);
  });

  it('should reject a bad id', async () => {
    const response = await app.inject({
      method: 'PUT',
      url: '/api/v1/credentials/not-a-uuid/decoy',
      payload: { decoy: true },
    });

    expect(response.statusCode).toBe(400);
    expect(decoys.set).not.toHaveBeenCalled();
  });

  it('should mark a decoy and answer the flag', async () => {
    decoys.set.mockResolvedValueOnce(true);

    const response = await app.inject({
      method: 'PUT',
      url: `/api/v1/credentials/${ID}/decoy`,
      payload: { decoy: true },
    });

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ decoy: true });
    expect(decoys.set).toHaveBeenCalledWith(ID, true, ADMIN, expect.anything());
  });

  it.each([
    ['no flag', {}],
    ['a flag that is not a boolean', { decoy: 'true' }],
    ['an unknown field', { decoy: true, note: 'x' }],
  ])('should reject %s', async (_, payload) => {
    const response = await app.inject({
      method: 'PUT',
      url: `/api/v1/credentials/${ID}/decoy`,
      payload,
    });

    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual(VALIDATION_ERROR);
  });

  it('should answer 404 for a credential that is not there', async () => {
    decoys.isDecoy.mockRejectedValueOnce(new CredentialNotFoundError());

    const response = await app.inject({ method: 'GET', url: `/api/v1/credentials/${ID}/decoy` });

    expect(response.statusCode).toBe(404);
  });
});
