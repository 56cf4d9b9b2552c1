import { ChildProcess, spawn } from 'node:child_process';
import { generate } from 'otplib';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsersService } from '../src/auth/users/users.service';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { createCredential, Headers } from './helpers/credential-fixtures';
import { serviceWithGrants } from './helpers/principals';
import { until } from './helpers/rotation-checks';
import { bearerFor, listening, Listening, scratchMariadb, startApp } from './helpers/test-app';

/** The built CLI (`npm run build`), run as its users run it: a process of its own. */
const CLI = join(__dirname, '..', 'cli', 'dist', 'custos.js');
const API = '/api/v1';
const ENV = {
  JWT_SECRET: randomBytes(48).toString('base64'),
  THROTTLE_LIMIT: '100000',
  AUDIT_SINKS: 'none',
  ROTATION_TICK: 'PT1H',
  EVENTS_SEQUENCE_INTERVAL_MS: '50',
  EVENTS_STREAM_POLL_MS: '50',
  EVENTS_STREAM_HEARTBEAT: 'PT1S',
};
/** Prints the child's environment as JSON. */
const PRINT_ENV = ['node', '-e', 'process.stdout.write(JSON.stringify(process.env))'];

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('custos CLI against a real Custos (MariaDB)', () => {
  let database: ScratchDatabase;
  let server: Listening;
  let admin: Headers;
  let home: string;
  const ids: Record<string, string> = {};
  const keys: Record<string, string> = {};
  const running: ChildProcess[] = [];

  /** Runs `custos args…` with only these variables (a fresh HOME, the server's address). */
  function custos(
    args: string[],
    env: Record<string, string> = {},
    input?: string,
  ): { child: ChildProcess; result: Promise<Result> } {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: {
        PATH: process.env.PATH,
        HOME: home,
        XDG_CONFIG_HOME: join(home, 'config'),
        CUSTOS_ADDR: server.url,
        ...env,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    running.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.end(input ?? '');
    const result = new Promise<Result>((resolve) =>
      child.once('close', (code) => resolve({ code, stdout, stderr })),
    );
    return { child, result };
  }

  const as = (who: string, args: string[], input?: string) =>
    custos(args, { CUSTOS_API_KEY: keys[who] }, input).result;

  async function revealAsAdmin(id: string): Promise<Record<string, unknown>> {
    const response = await server.sut.http
      .post(`${API}/credentials/${id}/reveal`)
      .set(admin)
      .send({})
      .expect(200);
    return (response.body as { secret: Record<string, unknown> }).secret;
  }

  async function rotateAsAdmin(id: string): Promise<void> {
    const accepted = await server.sut.http
      .post(`${API}/credentials/${id}/rotate`)
      .set(admin)
      .send({})
      .expect(202);
    const runId = (accepted.body as { runId: string }).runId;
    await until(
      async () => {
        const run = await server.sut.http.get(`${API}/rotations/${runId}`).set(admin).expect(200);
        return (run.body as { status: string }).status === 'succeeded' ? true : undefined;
      },
      20_000,
      `run ${runId} succeeded`,
    );
  }

  async function rotatable(path: string, password: string): Promise<string> {
    const { id } = await createCredential(server.sut, admin, {
      path,
      type: 'password',
      secret: { password },
    });
    await server.sut.http
      .put(`${API}/credentials/${id}/rotation`)
      .set(admin)
      .send({
        enabled: true,
        interval: 'P30D',
        gracePeriod: 'PT1H',
        rotator: { kind: 'generated' },
      })
      .expect(200);
    return id;
  }

  beforeAll(async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
    home = mkdtempSync(join(tmpdir(), 'custos-cli-e2e-'));
    database = await scratchMariadb();
    server = await listening(await startApp(database, { env: ENV }));
    admin = { authorization: await bearerFor(server.sut, 'admin') };
    ids.db = await rotatable('acme/prod/db-password', 'db-pass-v1-Xq3');
    ids.stripe = (
      await createCredential(server.sut, admin, {
        path: 'acme/prod/stripe',
        type: 'oauth',
        secret: { clientId: 'stripe-client', clientSecret: 'stripe-secret-Hj8' },
      })
    ).id;
    ids.versioned = (
      await createCredential(server.sut, admin, {
        path: 'acme/prod/versioned',
        type: 'api_key',
        secret: { apiKey: 'versioned-v1-Lk2' },
      })
    ).id;
    await server.sut.http
      .put(`${API}/credentials/${ids.versioned}/secret`)
      .set(admin)
      .set('if-match', '1')
      .send({ secret: { apiKey: 'versioned-v2-Mn5' } })
      .expect(200);
    ids.rot = await rotatable('acme/rot/worker', 'worker-v1-Pz0');
    ids.watched = await rotatable('acme/watch/db-password', 'watched-v1-Ty6');
    ids.stage = (
      await createCredential(server.sut, admin, {
        path: 'acme/stage/db-password',
        type: 'password',
        secret: { password: 'stage-pass-Rr1' },
      })
    ).id;

    const service = async (
      name: string,
      grants: { pathPattern: string; capabilities: string[] }[],
    ) => {
      keys[name] = (await serviceWithGrants(server.sut, admin.authorization, grants)).headers[
        'x-api-key'
      ];
    };
    await service('reader', [
      { pathPattern: 'acme/prod/*', capabilities: ['read', 'reveal'] },
      { pathPattern: 'acme/watch/*', capabilities: ['read', 'reveal'] },
    ]);
    await service('noReveal', [
      { pathPattern: 'acme/prod/*', capabilities: ['read'] },
      { pathPattern: 'acme/watch/*', capabilities: ['read'] },
    ]);
    await service('stranger', [{ pathPattern: 'other/**', capabilities: ['read', 'reveal'] }]);
    // Reads everything under acme/prod, may reveal one credential there only.
    await service('partial', [
      { pathPattern: 'acme/prod/*', capabilities: ['read'] },
      { pathPattern: 'acme/prod/stripe', capabilities: ['reveal'] },
    ]);
    await service('writer', [
      { pathPattern: 'acme/dev/**', capabilities: ['read', 'reveal', 'write'] },
    ]);
    await service('rotator', [{ pathPattern: 'acme/rot/*', capabilities: ['read', 'rotate'] }]);
  }, 90_000);

  afterAll(async () => {
    for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
    await server?.sut.close();
    await database?.drop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  describe('get', () => {
    it('should print the secret as JSON, one field raw, as env lines, and an older version', async () => {
      const json = await as('reader', ['get', 'acme/prod/stripe']);
      expect(json).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(json.stdout)).toEqual({
        clientId: 'stripe-client',
        clientSecret: 'stripe-secret-Hj8',
      });

      const field = await as('reader', ['get', 'acme/prod/db-password', '--field', 'password']);
      expect(field).toMatchObject({ code: 0, stdout: 'db-pass-v1-Xq3\n' });

      const env = await as('reader', ['get', 'acme/prod/stripe', '--format', 'env']);
      expect(env.stdout).toBe(
        'STRIPE_CLIENT_ID=stripe-client\nSTRIPE_CLIENT_SECRET=stripe-secret-Hj8\n',
      );

      const current = await as('reader', ['get', 'acme/prod/versioned', '--format', 'raw']);
      expect(current.stdout).toBe('versioned-v2-Mn5\n');
      const older = await as('reader', [
        'get',
        'acme/prod/versioned',
        '--version',
        '1',
        '--field',
        'apiKey',
      ]);
      expect(older).toMatchObject({ code: 0, stdout: 'versioned-v1-Lk2\n' });
    });

    it('should refuse a service that may read but not reveal, and one that may not read, in one line', async () => {
      const refused = await as('noReveal', ['get', 'acme/prod/db-password']);
      expect(refused.code).toBe(1);
      expect(refused.stdout).toBe('');
      expect(refused.stderr).toMatch(/^custos: GET \/secrets\/acme\/prod\/db-password: 403 .*\n$/);

      const stranger = await as('stranger', ['get', 'acme/prod/db-password']);
      expect(stranger.code).toBe(1);
      expect(stranger.stdout).toBe('');
      expect(stranger.stderr).toMatch(/^custos: .*404.*\n$/);
      expect(stranger.stderr).not.toContain('db-pass-v1');
    });

    it('should say what is wrong without an API key or with a bad one', async () => {
      const none = await custos(['get', 'acme/prod/db-password']).result;
      expect(none.code).toBe(1);
      expect(none.stderr).toBe(
        'custos: not logged in: run `custos login`, or set CUSTOS_TOKEN or CUSTOS_API_KEY\n',
      );
      const bad = await custos(['get', 'acme/prod/db-password'], { CUSTOS_API_KEY: 'cus_nope' })
        .result;
      expect(bad.code).toBe(1);
      expect(bad.stderr).toMatch(/^custos: GET \/secrets\/acme\/prod\/db-password: 401 /);
    });
  });

  describe('put', () => {
    it('should create a credential from standard input, then add versions from a file and (when forced) argv', async () => {
      const created = await as(
        'writer',
        ['put', 'acme/dev/deploy-token', '--type', 'api_key', 'apiKey=-'],
        'from-stdin-Bv4\n',
      );
      expect(created).toMatchObject({
        code: 0,
        stdout: 'acme/dev/deploy-token: version 1 (created)\n',
      });
      const listed = await server.sut.http
        .get(`${API}/credentials?pathPrefix=acme/dev/deploy-token`)
        .set(admin)
        .expect(200);
      const item = (listed.body as { items: { id: string; name: string }[] }).items[0];
      expect(item.name).toBe('deploy-token');
      expect(await revealAsAdmin(item.id)).toEqual({ apiKey: 'from-stdin-Bv4' });

      const file = join(home, 'token.txt');
      writeFileSync(file, 'from-file-Cw5\n', { mode: 0o600 });
      const fromFile = await as('writer', ['put', 'acme/dev/deploy-token', `apiKey=@${file}`]);
      expect(fromFile).toMatchObject({ code: 0, stdout: 'acme/dev/deploy-token: version 2\n' });
      expect(await revealAsAdmin(item.id)).toEqual({ apiKey: 'from-file-Cw5' });

      const argv = await as('writer', ['put', 'acme/dev/deploy-token', 'apiKey=from-argv-Dx6']);
      expect(argv.code).toBe(2);
      expect(argv.stderr).toContain('--allow-argv-secrets');
      expect(argv.stderr).not.toContain('from-argv-Dx6');
      expect(await revealAsAdmin(item.id)).toEqual({ apiKey: 'from-file-Cw5' });

      const forced = await as('writer', [
        'put',
        'acme/dev/deploy-token',
        '--allow-argv-secrets',
        'apiKey=from-argv-Dx6',
      ]);
      expect(forced).toMatchObject({ code: 0, stdout: 'acme/dev/deploy-token: version 3\n' });
      expect(await revealAsAdmin(item.id)).toEqual({ apiKey: 'from-argv-Dx6' });
    });

    it('should refuse a service without write on the path', async () => {
      const refused = await as(
        'reader',
        ['put', 'acme/prod/new-one', '--type', 'password', 'password=-'],
        'never-stored-Ey7',
      );
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^custos: POST \/credentials: 40[34] /);
      expect(refused.stderr).not.toContain('never-stored');
      const existing = await as(
        'noReveal',
        ['put', 'acme/prod/db-password', 'password=-'],
        'x-Fz8',
      );
      expect(existing.code).toBe(1);
      expect(existing.stderr).toMatch(/: 403 /);
      expect(await revealAsAdmin(ids.db)).toEqual({ password: 'db-pass-v1-Xq3' });
    });
  });

  describe('ls', () => {
    it('should list paths, types and versions the caller may read, never values', async () => {
      const listed = await as('reader', ['ls', 'acme/prod/']);
      expect(listed.code).toBe(0);
      expect(listed.stdout.trim().split('\n')).toEqual([
        'acme/prod/db-password\tpassword\tv1',
        'acme/prod/stripe\toauth\tv1',
        'acme/prod/versioned\tapi_key\tv2',
      ]);
      const all = await as('reader', ['ls']);
      expect(all.stdout).toContain('acme/watch/db-password');
      expect(all.stdout).not.toContain('acme/stage');
      expect(all.stdout).not.toMatch(/db-pass-v1|stripe-secret/);

      const stranger = await as('stranger', ['ls', 'acme/']);
      expect(stranger).toMatchObject({ code: 0, stdout: '' });
    });
  });

  describe('rotate', () => {
    it('should rotate for a service with rotate and wait for the run; an emergency one too', async () => {
      const rotated = await as('rotator', ['rotate', 'acme/rot/worker', '--wait']);
      expect(rotated.code).toBe(0);
      expect(rotated.stdout).toMatch(/^acme\/rot\/worker: rotation \S+ succeeded, version 2\n$/);
      const emergency = await as('rotator', [
        'rotate',
        'acme/rot/worker',
        '--emergency',
        '--reason',
        'cli test',
        '--wait',
      ]);
      expect(emergency.code).toBe(0);
      expect(emergency.stdout).toMatch(/succeeded, version 3\n$/);
      const secret = await revealAsAdmin(ids.rot);
      expect(secret.password).not.toBe('worker-v1-Pz0');
    });

    it('should refuse a service without rotate', async () => {
      const refused = await as('reader', ['rotate', 'acme/prod/db-password']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/^custos: POST \/credentials\/\S+\/rotate: 403 /);
    });
  });

  describe('run', () => {
    it('should give the child every secret under the prefix that the service may reveal', async () => {
      const result = await as('reader', ['run', '--path', 'acme/prod', '--', ...PRINT_ENV]);
      expect(result.code).toBe(0);
      const env = JSON.parse(result.stdout) as Record<string, string>;
      expect(env).toMatchObject({
        DB_PASSWORD: 'db-pass-v1-Xq3',
        STRIPE_CLIENT_ID: 'stripe-client',
        STRIPE_CLIENT_SECRET: 'stripe-secret-Hj8',
        VERSIONED: 'versioned-v2-Mn5',
      });
      // Nothing outside the prefix, and not custos's own key.
      expect(Object.values(env)).not.toContain('stage-pass-Rr1');
      expect(Object.values(env)).not.toContain('watched-v1-Ty6');
      expect(env.CUSTOS_API_KEY).toBeUndefined();
    });

    it('should print them with env, the command of the README', async () => {
      const result = await as('reader', ['run', '--path', 'acme/prod', '--', 'env']);
      expect(result.code).toBe(0);
      expect(result.stdout.split('\n')).toContain('DB_PASSWORD=db-pass-v1-Xq3');
    });

    it('should give nothing to a service that may not reveal, and nothing to one that may not read', async () => {
      for (const who of ['noReveal', 'stranger']) {
        const result = await as(who, [
          'run',
          '--verbose',
          '--path',
          'acme/prod',
          '--',
          ...PRINT_ENV,
        ]);
        expect(result.code).toBe(0);
        const env = JSON.parse(result.stdout) as Record<string, string>;
        expect(env.DB_PASSWORD).toBeUndefined();
        expect(env.STRIPE_CLIENT_SECRET).toBeUndefined();
        expect(result.stdout).not.toContain('db-pass-v1');
        expect(result.stderr).not.toContain('db-pass-v1');
      }
      const skipped = await as('noReveal', ['run', '-v', '--path', 'acme/prod', '--', 'true']);
      expect(skipped.stderr).toBe(
        'custos: 0 variable(s) from 0 credential(s); 3 credential(s) skipped (you may not reveal them)\n',
      );
    });

    it('should give a service the secrets it may reveal under the prefix and not the others, passing the exit code through', async () => {
      const result = await as('partial', [
        'run',
        '--verbose',
        '--path',
        'acme/prod',
        '--',
        'node',
        '-e',
        'process.stdout.write(JSON.stringify(process.env)); process.exit(3)',
      ]);

      expect(result.code).toBe(3);
      const env = JSON.parse(result.stdout) as Record<string, string>;
      expect(env).toMatchObject({
        STRIPE_CLIENT_ID: 'stripe-client',
        STRIPE_CLIENT_SECRET: 'stripe-secret-Hj8',
      });
      expect(env.DB_PASSWORD).toBeUndefined();
      expect(env.VERSIONED).toBeUndefined();
      expect(result.stdout + result.stderr).not.toMatch(/db-pass-v1|versioned-v2/);
      expect(result.stderr).toBe(
        'custos: 2 variable(s) from 1 credential(s); 2 credential(s) skipped (you may not reveal them): ' +
          'STRIPE_CLIENT_ID STRIPE_CLIENT_SECRET\n',
      );
    });

    it("should pass the child's exit code through, and 128 + the signal when a signal ends it", async () => {
      const seven = await as('reader', [
        'run',
        '--path',
        'acme/prod',
        '--',
        'node',
        '-e',
        'process.exit(7)',
      ]);
      expect(seven.code).toBe(7);
      const killed = await as('reader', [
        'run',
        '--path',
        'acme/prod',
        '--',
        'node',
        '-e',
        'process.kill(process.pid, "SIGTERM")',
      ]);
      expect(killed.code).toBe(143);
      const missing = await as('reader', ['run', '--path', 'acme/prod', '--', 'no-such-command-x']);
      expect(missing).toMatchObject({
        code: 127,
        stderr: 'custos: cannot run no-such-command-x: command not found\n',
      });
    });

    it('should rename with --env and refuse a collision in one line', async () => {
      const renamed = await as('reader', [
        'run',
        '--path',
        'acme/prod',
        '--env',
        'STRIPE_ID=acme/prod/stripe#clientId',
        '--prefix',
        'APP_',
        '--',
        ...PRINT_ENV,
      ]);
      expect(renamed.code).toBe(0);
      const env = JSON.parse(renamed.stdout) as Record<string, string>;
      expect(env).toMatchObject({
        STRIPE_ID: 'stripe-client',
        APP_STRIPE_CLIENT_SECRET: 'stripe-secret-Hj8',
        APP_DB_PASSWORD: 'db-pass-v1-Xq3',
      });
      expect(env.APP_STRIPE_CLIENT_ID).toBeUndefined();

      const clash = await as('reader', [
        'run',
        '--path',
        'acme/prod',
        '--path',
        'acme/watch',
        '--',
        'true',
      ]);
      expect(clash.code).toBe(1);
      expect(clash.stderr).toBe(
        'custos: DB_PASSWORD would hold both acme/prod/db-password#password and ' +
          'acme/watch/db-password#password; name them apart with --env NAME=path#field\n',
      );
    });
  });

  describe('login', () => {
    const person = async () => {
      const email = `cli-${Date.now()}-${randomBytes(3).toString('hex')}@example.test`;
      const password = `Tq8!${randomBytes(12).toString('base64url')}`;
      await server.sut.app.get(UsersService).create({ email, password, role: 'operator' });
      return { email, password };
    };

    it('should log in with --password-stdin, keep the session in a 0600 file and use it', async () => {
      const { email, password } = await person();
      const xdg = mkdtempSync(join(home, 'xdg-'));
      const env = { XDG_CONFIG_HOME: xdg };

      const wrong = await custos(['login', '--email', email, '--password-stdin'], env, 'wrong-pw\n')
        .result;
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toBe('custos: login refused: Invalid email or password\n');
      const file = join(xdg, 'custos', 'credentials.json');
      expect(existsSync(file)).toBe(false);

      const ok = await custos(['login', '--email', email, '--password-stdin'], env, `${password}\n`)
        .result;
      expect(ok.code).toBe(0);
      expect(ok.stdout).toBe('');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(statSync(join(xdg, 'custos')).mode & 0o777).toBe(0o700);
      const stored = readFileSync(file, 'utf8');
      expect(stored).not.toContain(password);
      expect(JSON.parse(stored)).toMatchObject({ addr: server.url, email });

      const got = await custos(['get', 'acme/prod/db-password', '--field', 'password'], env).result;
      expect(got).toMatchObject({ code: 0, stdout: 'db-pass-v1-Xq3\n' });

      const out = await custos(['logout'], env).result;
      expect(out.code).toBe(0);
      expect(existsSync(file)).toBe(false);
      const after = await custos(['ls'], env).result;
      expect(after.code).toBe(1);
    });

    it('should refresh an expired access token, storing the next pair with the same mode', async () => {
      const { email, password } = await person();
      const env = { XDG_CONFIG_HOME: mkdtempSync(join(home, 'xdg-')) };
      const file = join(env.XDG_CONFIG_HOME, 'custos', 'credentials.json');
      await custos(['login', '--email', email, '--password-stdin'], env, password).result;
      const before = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      writeFileSync(file, JSON.stringify({ ...before, expiresAt: 0 }), { mode: 0o600 });

      const listed = await custos(['ls', 'acme/prod/'], env).result;
      expect(listed.code).toBe(0);
      expect(listed.stdout).toContain('acme/prod/db-password');
      const after = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      expect(after.refreshToken).not.toBe(before.refreshToken);
      expect(after.expiresAt).toBeGreaterThan(Date.now());
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(existsSync(`${file}.lock`)).toBe(false);

      // The spent refresh token is no longer in the file, so a later refresh still works.
      writeFileSync(file, JSON.stringify({ ...after, expiresAt: 0 }), { mode: 0o600 });
      expect((await custos(['ls'], env).result).code).toBe(0);
    });

    it('should ask for the TOTP code of an account that has one, and log in with --totp', async () => {
      const { email, password } = await person();
      const first = await server.sut.http
        .post(`${API}/auth/login`)
        .send({ email, password })
        .expect(200);
      const auth = {
        authorization: `Bearer ${(first.body as { accessToken: string }).accessToken}`,
      };
      const enrolled = await server.sut.http
        .post(`${API}/auth/mfa/totp/enrol`)
        .set(auth)
        .expect(200);
      const secret = (enrolled.body as { secret: string }).secret;
      await server.sut.http
        .post(`${API}/auth/mfa/totp/confirm`)
        .set(auth)
        .send({ code: await generate({ secret, epoch: Date.now() / 1000 - 30 }) })
        .expect(204);
      const env = { XDG_CONFIG_HOME: mkdtempSync(join(home, 'xdg-')) };

      const missing = await custos(['login', '--email', email, '--password-stdin'], env, password)
        .result;
      expect(missing).toMatchObject({
        code: 1,
        stderr: 'custos: this account needs a TOTP code: give it with --totp CODE\n',
      });
      const code = await generate({ secret });
      const ok = await custos(
        ['login', '--email', email, '--password-stdin', '--totp', code],
        env,
        password,
      ).result;
      expect(ok.code).toBe(0);
      expect(existsSync(join(env.XDG_CONFIG_HOME, 'custos', 'credentials.json'))).toBe(true);
    });
  });

  describe('watch', () => {
    it('should restart the child with the new value after a rotation, and leave alone a child that got nothing', async () => {
      // The child appends the value it was started with to a file, then waits.
      const script =
        'require("fs").appendFileSync(process.argv[1], (process.env.DB_PASSWORD ?? "absent") + "\\n");' +
        'setInterval(() => {}, 1000);';
      const lines = (file: string) =>
        existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
      const allowedFile = join(home, 'watch-allowed.txt');
      const refusedFile = join(home, 'watch-refused.txt');
      const allowed = custos(
        ['watch', '--path', 'acme/watch', '--', 'node', '-e', script, allowedFile],
        { CUSTOS_API_KEY: keys.reader },
      );
      const refused = custos(
        ['watch', '--path', 'acme/watch', '--', 'node', '-e', script, refusedFile],
        { CUSTOS_API_KEY: keys.noReveal },
      );
      await until(
        () => Promise.resolve(lines(allowedFile).length === 1 ? true : undefined),
        15_000,
        'first start',
      );
      await until(
        () => Promise.resolve(lines(refusedFile).length === 1 ? true : undefined),
        15_000,
        'refused start',
      );
      expect(lines(allowedFile)).toEqual(['watched-v1-Ty6']);
      expect(lines(refusedFile)).toEqual(['absent']);

      await rotateAsAdmin(ids.watched);
      const rotated = (await revealAsAdmin(ids.watched)).password as string;
      expect(rotated).not.toBe('watched-v1-Ty6');
      await until(
        () => Promise.resolve(lines(allowedFile).length === 2 ? true : undefined),
        20_000,
        'restart',
      );
      expect(lines(allowedFile)).toEqual(['watched-v1-Ty6', rotated]);
      // The other heard of the rotation too (it may read), but had nothing to renew.
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(lines(refusedFile)).toEqual(['absent']);

      allowed.child.kill('SIGTERM');
      refused.child.kill('SIGTERM');
      const [a, r] = await Promise.all([allowed.result, refused.result]);
      expect(a.code).toBe(143);
      expect(r.code).toBe(143);
      expect(a.stdout + a.stderr).not.toContain(rotated);
    });

    it('should only signal the child with --signal, and end with its exit code when it ends by itself', async () => {
      const file = join(home, 'watch-hup.txt');
      const lines = () =>
        existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
      const script =
        'const fs = require("fs");' +
        'fs.appendFileSync(process.argv[1], "start " + process.env.DB_PASSWORD + "\\n");' +
        'process.on("SIGHUP", () => fs.appendFileSync(process.argv[1], "hup\\n"));' +
        'process.on("SIGTERM", () => process.exit(9));' +
        'setInterval(() => {}, 1000);';
      const watching = custos(
        ['watch', '--signal', 'HUP', '--path', 'acme/watch', '--', 'node', '-e', script, file],
        { CUSTOS_API_KEY: keys.reader },
      );
      await until(() => Promise.resolve(lines().length === 1 ? true : undefined), 15_000, 'start');
      await rotateAsAdmin(ids.watched);
      await until(() => Promise.resolve(lines().length === 2 ? true : undefined), 20_000, 'hup');
      expect(lines()[1]).toBe('hup');
      // The same process: signalled, not restarted.
      expect(lines()[0]).toMatch(/^start /);

      // SIGTERM to custos goes to the child, which exits 9: so does custos.
      watching.child.kill('SIGTERM');
      expect((await watching.result).code).toBe(9);

      const ends = await as('reader', [
        'watch',
        '--path',
        'acme/watch',
        '--',
        'node',
        '-e',
        'process.exit(5)',
      ]);
      expect(ends.code).toBe(5);
    });
  });
});
