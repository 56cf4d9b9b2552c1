import { ScratchDatabase } from '../../src/database/cli/scratch-database';
import { bearerFor, scratchMariadb, startApp, TestApp } from '../helpers/test-app';

/**
 * CORS with a configured origin list: only the exact origin gets a grant; look-alikes get none.
 * (With no list, the attack suite proves a foreign origin gets nothing; platform.e2e the basics.)
 */
describe('CORS against look-alike origins (in-process app, MariaDB)', () => {
  const GOOD = 'https://admin.example.com';
  let database: ScratchDatabase;
  let sut: TestApp;
  let admin: string;

  beforeAll(async () => {
    database = await scratchMariadb();
    sut = await startApp(database, { env: { CORS_ORIGINS: GOOD } });
    admin = await bearerFor(sut, 'admin');
  });

  afterAll(async () => {
    await sut?.close();
    await database?.drop();
  });

  it('should grant the configured origin, with credentials', async () => {
    const preflight = await sut.http
      .options('/api/v1/credentials')
      .set('origin', GOOD)
      .set('access-control-request-method', 'GET');
    expect(preflight.headers['access-control-allow-origin']).toBe(GOOD);
    expect(preflight.headers['access-control-allow-credentials']).toBe('true');
  });

  it.each([
    'https://admin.example.com.evil.test',
    'https://evil-admin.example.com',
    'https://evil.admin.example.com',
    'http://admin.example.com',
    'https://admin.example.com:8443',
    'https://ADMIN.example.com.evil.test',
    'null',
  ])('should grant nothing to %s, on a preflight or a request', async (origin) => {
    const preflight = await sut.http
      .options('/api/v1/credentials')
      .set('origin', origin)
      .set('access-control-request-method', 'GET')
      .set('access-control-request-headers', 'authorization');
    // No Allow-Origin is the refusal; the plugin sends Allow-Credentials to every origin, which
    // a browser ignores without an Allow-Origin naming the caller.
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    const response = await sut.http
      .get('/api/v1/credentials')
      .set('authorization', admin)
      .set('origin', origin)
      .expect(200);
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });
});
