import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadAppConfig } from '../../config/app.config';
import { ConfigError } from '../../config/config-error';
import { loadCryptoConfig } from '../../config/crypto.config';
import { loadDatabaseConfig } from '../../config/database.config';
import { KeyringEntry } from '../../crypto/keyring-entry.entity';
import { loadMasterKey } from '../../crypto/master-key-loader';
import { checkValueMatches, derivePurposeKey } from '../../crypto/purpose-keys';
import { buildDataSourceOptions } from '../../database/data-source-options';
import { AuditVerifier } from '../audit-verifier';

/**
 * `npm run audit:verify`: checks the audit chain of the configured database with the configured
 * master key, prints the result as JSON, and exits 0 when intact, 1 when not, 2 when it cannot run.
 */
async function main(): Promise<number> {
  const app = loadAppConfig(process.env);
  const crypto = loadCryptoConfig(process.env);
  const loaded = loadMasterKey({ ...crypto, isProduction: app.isProduction, dataDir: app.dataDir });
  if (!loaded) throw new ConfigError(['CUSTOS_MASTER_KEY: needed to verify the audit chain']);
  const dataSource = new DataSource(buildDataSourceOptions(loadDatabaseConfig(process.env)));
  await dataSource.initialize();
  try {
    const entry = await dataSource
      .getRepository(KeyringEntry)
      .findOneBy({ id: crypto.masterKeyId });
    if (!entry || !checkValueMatches(loaded.key, entry.checkValue)) {
      process.stderr.write(
        `The master key does not match key "${crypto.masterKeyId}" of this database\n`,
      );
      return 2;
    }
    const key = derivePurposeKey(loaded.key, 'audit-chain');
    const started = Date.now();
    const result = await new AuditVerifier(dataSource, (id) =>
      id === crypto.masterKeyId ? key : undefined,
    ).verify();
    process.stdout.write(`${JSON.stringify({ ...result, ms: Date.now() - started })}\n`);
    return result.ok ? 0 : 1;
  } finally {
    await dataSource.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(
      `${error instanceof ConfigError ? error.message : String((error as Error).stack ?? error)}\n`,
    );
    process.exit(2);
  },
);
