import { NestFastifyApplication } from '@nestjs/platform-fastify';
import {
  actingAs,
  createControllerApp,
  strictFn,
  VALIDATION_ERROR,
} from '../../../test/helpers/controller-app';
import { IS_PUBLIC, ROLES } from '../../common/auth/auth.decorators';
import type { Principal } from '../../common/auth/principal';
import { LeakScanController } from './leak-scan.controller';
import { SCAN_MAX_BYTES } from './leak-scan.dto';
import { LeakScanService } from './leak-scan.service';

const SERVICE: Principal = {
  type: 'service',
  id: '7d3c1b2a-4e5f-4a6b-8c7d-9e0f1a2b3c4d',
  name: 'ci-hook',
};

const ANSWER = {
  matches: [
    {
      credentialId: '5b1e6c2a-8d3f-4a7b-9c1d-2e3f4a5b6c7d',
      path: 'acme/prod/stripe',
      version: 3,
      state: 'current',
    },
  ],
  otherMatches: 1,
  candidates: 4,
  truncated: false,
  contained: false,
};

describe('LeakScanController', () => {
  let app: NestFastifyApplication;
  const scans = {
    scan: strictFn('LeakScanService.scan'),
    recordBypass: strictFn('LeakScanService.recordBypass'),
  };

  beforeAll(async () => {
    app = await createControllerApp(
      {
        controllers: [LeakScanController],
        providers: [{ provide: LeakScanService, useValue: scans }],
      },
      { beforeInit: actingAs(() => SERVICE) },
    );
  });

  afterAll(async () => {
    await app?.close();
  });

  afterEach(() => jest.clearAllMocks());

  it('should require authentication', () => {
    expect(Reflect.getMetadata(IS_PUBLIC, LeakScanController)).toBeUndefined();
    expect(Reflect.getMetadata(IS_PUBLIC, LeakScanController.prototype.scan)).toBeUndefined();
    expect(Reflect.getMetadata(IS_PUBLIC, LeakScanController.prototype.bypass)).toBeUndefined();
  });

  it('should be open to every authenticated principal', () => {
    expect(Reflect.getMetadata(ROLES, LeakScanController)).toBeUndefined();
    expect(Reflect.getMetadata(ROLES, LeakScanController.prototype.scan)).toBeUndefined();
  });

  it('should pass the text, contain and the caller on and answer 200 with the matches', async () => {
    scans.scan.mockResolvedValueOnce(ANSWER);

    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/scan',
      payload: { text: 'STRIPE=sk_live_x', contain: true },
    });

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual(ANSWER);
    expect(response.headers['cache-control']).toBe('no-store');
    expect(scans.scan).toHaveBeenCalledWith(
      { text: 'STRIPE=sk_live_x', contain: true },
      SERVICE,
      expect.anything(),
    );
  });

  it('should answer 413 to a text over the cap without scanning it', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/scan',
      payload: { text: 'é'.repeat(SCAN_MAX_BYTES / 2 + 1) },
    });

    expect(response.statusCode).toBe(413);
    expect(scans.scan).not.toHaveBeenCalled();
  });

  it.each([
    ['no text', {}],
    ['a text that is not a string', { text: ['a'] }],
    ['contain that is not a boolean', { text: 'a', contain: 'yes' }],
    ['an unknown field', { text: 'a', bypass: true }],
  ])('should reject %s', async (_, payload) => {
    const response = await app.inject({ method: 'POST', url: '/api/v1/scan', payload });

    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual(VALIDATION_ERROR);
    expect(scans.scan).not.toHaveBeenCalled();
  });

  it('should record a bypass with its reason and answer 204', async () => {
    scans.recordBypass.mockResolvedValueOnce(undefined);

    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/scan/bypass',
      payload: { reason: 'test fixture', where: 'repo (main)' },
    });

    expect(response.statusCode).toBe(204);
    expect(scans.recordBypass).toHaveBeenCalledWith(
      { reason: 'test fixture', where: 'repo (main)' },
      expect.anything(),
    );
  });

  it('should reject a bypass without a reason', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/api/v1/scan/bypass',
      payload: { reason: '  ' },
    });

    expect(response.statusCode).toBe(400);
    expect(scans.recordBypass).not.toHaveBeenCalled();
  });
});
