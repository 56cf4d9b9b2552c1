import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApp } from '../create-app';
import { buildOpenApiDocument } from '../swagger';

const USAGE = `Usage: openapi-document <file>
  writes the OpenAPI document, as /api/docs-json serves it, to <file> (- for stdout),
  from the app built on a throw-away SQLite database: no server, no listening port`;

/**
 * The document is built from the app as createApp makes it (same routes, prefix and decorators),
 * on the embedded SQLite default in a temporary data directory, and never listens or starts the
 * scheduled work (app.init is not called).
 */
async function main(argv: string[]): Promise<number> {
  const [target] = argv;
  if (!target || target === '--help') {
    process.stderr.write(`${USAGE}\n`);
    return target ? 0 : 2;
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'custos-openapi-'));
  Object.assign(process.env, {
    NODE_ENV: 'development',
    LOG_LEVEL: 'silent',
    CUSTOS_DATA_DIR: dataDir,
    CUSTOS_MASTER_KEY: randomBytes(32).toString('base64'),
  });
  for (const name of [
    'DATABASE_URL',
    'CUSTOS_MASTER_KEY_FILE',
    'CUSTOS_MASTER_KEYS',
    'CUSTOS_MASTER_KEYS_DIR',
  ]) {
    delete process.env[name];
  }
  try {
    const app = await createApp();
    try {
      const json = `${JSON.stringify(buildOpenApiDocument(app), null, 2)}\n`;
      if (target === '-') process.stdout.write(json);
      else writeFileSync(target, json);
    } finally {
      await app.close();
    }
    return 0;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `openapi-document failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
