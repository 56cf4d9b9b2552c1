import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { satisfies } from 'semver';
import { ScratchDatabase } from '../src/database/cli/scratch-database';
import { createCredential } from './helpers/credential-fixtures';
import { serviceWithGrants } from './helpers/principals';
import { bearerFor, listening, Listening, scratchMariadb, startApp } from './helpers/test-app';

const run = promisify(execFile);
const ROOT = join(__dirname, '..');
const CLI_DIR = join(ROOT, 'cli');

interface PackedPackage {
  name: string;
  version: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
}

/**
 * The CLI as its users get it: `npm pack` of cli/, unpacked as npm lays a package out
 * (node_modules/@custos/cli beside its dependencies), and its bin run from there, against a real
 * Custos on MariaDB. No network: npm pack reads only the working tree (--ignore-scripts: the
 * prepack build is `npm run build`, done before the e2e suite), and the one dependency,
 * commander, is the repository's own copy, linked where npm install would put it, after checking
 * that it satisfies the packed range. Nothing of the repository is reachable from the unpacked
 * package otherwise, so a file missing from the pack or a dependency missing from its
 * package.json fails here.
 */
describe('custos CLI, packed with npm pack (MariaDB)', () => {
  let work: string;
  let installed: string;
  let packed: PackedPackage;
  let files: string[];
  let database: ScratchDatabase;
  let server: Listening;
  let apiKey: string;

  beforeAll(async () => {
    const built = join(CLI_DIR, 'dist', 'custos.js');
    if (!existsSync(built)) throw new Error(`${built} is missing: run npm run build first`);
    work = mkdtempSync(join(tmpdir(), 'custos-cli-pack-'));
    const { stdout } = await run(
      'npm',
      ['pack', '--ignore-scripts', '--json', '--pack-destination', work],
      { cwd: CLI_DIR, env: { ...process.env, npm_config_offline: 'true' }, timeout: 60_000 },
    );
    const [report] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    files = report.files.map((file) => file.path).sort();

    installed = join(work, 'node_modules', '@custos', 'cli');
    mkdirSync(installed, { recursive: true });
    await run('tar', ['xzf', join(work, report.filename), '-C', installed, '--strip-components=1']);
    packed = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as PackedPackage;
    symlinkSync(join(ROOT, 'node_modules', 'commander'), join(work, 'node_modules', 'commander'));

    database = await scratchMariadb();
    server = await listening(
      await startApp(database, {
        env: { JWT_SECRET: randomBytes(48).toString('base64'), AUDIT_SINKS: 'none' },
      }),
    );
    const admin = { authorization: await bearerFor(server.sut, 'admin') };
    await createCredential(server.sut, admin, {
      path: 'acme/packed/db',
      type: 'password',
      secret: { password: 'packed-Pw-8Kq' },
    });
    apiKey = (
      await serviceWithGrants(server.sut, admin.authorization, [
        { pathPattern: 'acme/packed/*', capabilities: ['read', 'reveal'] },
      ])
    ).headers['x-api-key'];
  }, 120_000);

  afterAll(async () => {
    await server?.sut.close();
    await database?.drop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** The packed bin, run by node from where npm would install it, with a bare environment. */
  const custos = (args: string[]) =>
    run(process.execPath, [join(installed, packed.bin.custos), ...args], {
      cwd: work,
      env: {
        PATH: process.env.PATH,
        HOME: work,
        XDG_CONFIG_HOME: join(work, 'config'),
        CUSTOS_ADDR: server.url,
        CUSTOS_API_KEY: apiKey,
      },
      timeout: 30_000,
    });

  it('should pack the compiled CLI and its package.json, and no sources, tests or maps', () => {
    expect(files).toContain('package.json');
    expect(files).toContain(packed.bin.custos.replace(/^\.\//, ''));
    expect(files.filter((file) => file !== 'package.json' && !/^dist\/.+\.js$/.test(file))).toEqual(
      [],
    );
    expect(files.filter((file) => file.includes('.spec.'))).toEqual([]);
  });

  it('should need nothing but commander, which the repository’s copy satisfies', () => {
    const commander = JSON.parse(
      readFileSync(join(ROOT, 'node_modules', 'commander', 'package.json'), 'utf8'),
    ) as { version: string };

    expect(Object.keys(packed.dependencies)).toEqual(['commander']);
    expect(satisfies(commander.version, packed.dependencies.commander)).toBe(true);
  });

  it('should start with a node shebang, as npm links it as an executable', () => {
    const bin = readFileSync(join(installed, packed.bin.custos), 'utf8');
    expect(bin.split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('should print the packed version with --version', async () => {
    const { stdout } = await custos(['--version']);
    expect(stdout).toBe(`${packed.version}\n`);
  });

  it('should get a secret from a real Custos', async () => {
    const { stdout, stderr } = await custos(['get', 'acme/packed/db', '--field', 'password']);
    expect({ stdout, stderr }).toEqual({ stdout: 'packed-Pw-8Kq\n', stderr: '' });
  });
});
