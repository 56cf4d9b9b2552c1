import { Type } from '@nestjs/common';
import { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import TestAgent from 'supertest/lib/agent';
import { AppModule } from '../../src/app.module';
import { UsersService } from '../../src/auth/users/users.service';
import { createScratchMariadb, ScratchDatabase } from '../../src/database/cli/scratch-database';
import { createApp } from '../../src/http/create-app';

export interface TestApp {
  app: NestFastifyApplication;
  http: TestAgent;
  env: Record<string, string | undefined>;
  close(): Promise<void>;
}

export interface TestAppOptions {
  rootModule?: Type<unknown>;
  /** Extra environment for this app; DATABASE_URL and the data directory are set for you. */
  env?: Record<string, string | undefined>;
}

export function randomMasterKey(): string {
  return randomBytes(32).toString('base64');
}

/**
 * Starts the real app (createApp, as production does) on the given scratch database, with the
 * environment it needs set only while it starts.
 */
export async function startApp(
  database: ScratchDatabase,
  options: TestAppOptions = {},
): Promise<TestApp> {
  const dataDir = database.dataDir ?? mkdtempSync(join(tmpdir(), 'custos-e2e-'));
  // Undefined unsets, so a developer's own environment never leaks into a test app.
  const env: Record<string, string | undefined> = {
    DATABASE_URL: database.url,
    CUSTOS_DATA_DIR: dataDir,
    CUSTOS_MASTER_KEY: randomMasterKey(),
    ...options.env,
  };
  const app = await withEnv(env, async () => {
    const created = await createApp(options.rootModule ?? AppModule);
    await created.init();
    await created.getHttpAdapter().getInstance().ready();
    return created;
  });
  return {
    app,
    http: request(app.getHttpServer()),
    env,
    async close() {
      await app.close();
      if (!database.dataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Two instances of the app on one database, sharing the master key and the JWT secret as a
 * scaled-out deployment does. One after the other: the first migrates the database and creates
 * the bootstrap admin.
 */
export async function startInstances(
  database: ScratchDatabase,
  env: Record<string, string | undefined>,
): Promise<[TestApp, TestApp]> {
  const shared = {
    CUSTOS_MASTER_KEY: randomMasterKey(),
    JWT_SECRET: randomBytes(48).toString('base64'),
    ...env,
  };
  const first = await startApp(database, { env: shared });
  return [first, await startApp(database, { env: shared })];
}

export interface Listening {
  sut: TestApp;
  /** `http://127.0.0.1:<port>` */
  url: string;
}

/**
 * The app listening on a free loopback port, for clients that need a socket of their own (an
 * event stream); supertest's `http` keeps working beside it.
 */
export async function listening(sut: TestApp): Promise<Listening> {
  await sut.app.listen({ port: 0, host: '127.0.0.1' });
  return { sut, url: (await sut.app.getUrl()).replace('[::1]', '127.0.0.1') };
}

/** A scratch MariaDB database for one test file; drop it in afterAll. */
export function scratchMariadb(): Promise<ScratchDatabase> {
  return createScratchMariadb();
}

/** Runs `work` with the variables set (undefined unsets), restoring the environment after. */
export async function withEnv<T>(
  vars: Record<string, string | undefined>,
  work: () => Promise<T>,
): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  apply(vars);
  try {
    return await work();
  } finally {
    apply(saved);
  }
}

function apply(vars: Record<string, string | undefined>): void {
  for (const [name, value] of Object.entries(vars)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
}

let userCounter = 0;

/**
 * A user of the given role, created through the real service, logged in over HTTP; returns the
 * Authorization header value.
 */
export async function bearerFor(
  sut: TestApp,
  role: 'admin' | 'operator' | 'auditor' | 'viewer' = 'admin',
): Promise<string> {
  const email = `${role}-${++userCounter}-${Date.now()}@example.test`;
  const password = `Tq8!${randomBytes(12).toString('base64url')}`;
  await sut.app.get(UsersService).create({ email, password, role });
  const response = await sut.http.post('/api/v1/auth/login').send({ email, password }).expect(200);
  return `Bearer ${(response.body as { accessToken: string }).accessToken}`;
}
