import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** Deployment files, checked by reading: there is no Docker engine where the tests run. */
const ROOT = join(__dirname, '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

interface ComposeService {
  image?: string;
  build?: unknown;
  healthcheck?: { test?: unknown };
  volumes?: unknown[];
  depends_on?: Record<string, { condition?: string }> | string[];
  environment?: Record<string, unknown> | string[];
}

interface ComposeFile {
  services?: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** Compose accepts both a map and a list of NAME=value; normalize to a map. */
function environmentOf(service: ComposeService): Record<string, string> {
  const environment = service.environment ?? {};
  if (Array.isArray(environment)) {
    return Object.fromEntries(
      environment.map((entry) => {
        const [name, ...value] = String(entry).split('=');
        return [name, value.join('=')];
      }),
    );
  }
  return Object.fromEntries(
    Object.entries(environment).map(([name, value]) => [name, String(value)]),
  );
}

/** The variable names the settings classes (class XxxEnv { ... }) in src/config declare. */
function configVariableNames(): string[] {
  const dir = join(ROOT, 'src/config');
  const names = new Set<string>();
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.config.ts'))) {
    const source = readFileSync(join(dir, file), 'utf8');
    for (const [, body] of source.matchAll(/^(?:export\s+)?class\s+\w+Env\s*\{([\s\S]*?)^\}/gm)) {
      for (const [, name] of body.matchAll(/^\s+([A-Z][A-Z0-9_]*)\??\s*[:=;]/gm)) {
        names.add(name);
      }
    }
  }
  return [...names].sort();
}

describe('Deployment files', () => {
  describe('docker-compose.yml', () => {
    const compose = parse(read('docker-compose.yml')) as ComposeFile;
    const services = compose.services ?? {};

    it('should declare the mariadb and custos services', () => {
      expect(Object.keys(services)).toEqual(expect.arrayContaining(['mariadb', 'custos']));
    });

    it('should run MariaDB 11 with a health check and a persistent volume', () => {
      const mariadb = services.mariadb;
      expect(mariadb.image).toMatch(/^mariadb:11/);
      expect(mariadb.healthcheck?.test).toEqual(expect.arrayContaining(['healthcheck.sh']));
      expect(mariadb.volumes).toContain('mariadb-data:/var/lib/mysql');
      expect(compose.volumes).toHaveProperty('mariadb-data');
    });

    it('should start custos only once mariadb is healthy', () => {
      const dependsOn = services.custos.depends_on;
      expect(Array.isArray(dependsOn)).toBe(false);
      expect((dependsOn as Record<string, { condition?: string }>).mariadb?.condition).toBe(
        'service_healthy',
      );
    });

    it('should point custos at the mariadb service with a mysql:// DATABASE_URL', () => {
      const url = environmentOf(services.custos).DATABASE_URL;
      expect(url).toMatch(/^mysql:\/\/custos:[^@\s]+@mariadb:3306\/custos$/);
    });

    it('should build custos from the Dockerfile and keep its data in a named volume', () => {
      const custos = services.custos;
      expect(custos.build).toBeDefined();
      expect(custos.volumes).toContain('custos-data:/var/lib/custos');
      expect(compose.volumes).toHaveProperty('custos-data');
    });
  });

  describe('Dockerfile', () => {
    const instructions = read('Dockerfile')
      .replace(/\\\r?\n/g, ' ')
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line.length > 0 && !line.startsWith('#'));
    const withKeyword = (keyword: string) =>
      instructions.filter((line) => line.toUpperCase().startsWith(`${keyword} `));

    it('should have at least two build stages', () => {
      expect(withKeyword('FROM').length).toBeGreaterThanOrEqual(2);
    });

    it('should run as a user that is not root', () => {
      const users = withKeyword('USER').map((line) => line.slice('USER '.length).trim());
      expect(users.length).toBeGreaterThan(0);
      expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    });

    it('should declare a health check', () => {
      expect(withKeyword('HEALTHCHECK')).toHaveLength(1);
      expect(withKeyword('HEALTHCHECK')[0]).toContain('/api/v1/health/live');
    });
  });

  describe('.env.example', () => {
    const example = read('.env.example');
    const names = configVariableNames();

    it('should find the variables the config classes declare', () => {
      expect(names).toEqual(
        expect.arrayContaining(['NODE_ENV', 'DATABASE_URL', 'CUSTOS_MASTER_KEY']),
      );
    });

    it.each(names)('should document %s', (name) => {
      expect(example).toMatch(new RegExp(`^(# )?${name}=`, 'm'));
    });

    it('should list the passwords docker-compose.yml reads from .env', () => {
      expect(example).toMatch(/^MARIADB_PASSWORD=/m);
      expect(example).toMatch(/^MARIADB_ROOT_PASSWORD=/m);
    });
  });
});
