import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { loadAppConfig } from '../../config/app.config';
import { ConfigError } from '../../config/config-error';
import { loadCryptoConfig } from '../../config/crypto.config';
import { loadDatabaseConfig } from '../../config/database.config';
import { KeyringEntry } from '../../crypto/keyring-entry.entity';
import { keyringProblem } from '../../crypto/keyring.service';
import { loadMasterKeys } from '../../crypto/master-key-loader';
import { derivePurposeKey } from '../../crypto/purpose-keys';
import { buildDataSourceOptions } from '../../database/data-source-options';
import { AuditVerifier } from '../audit-verifier';

/**
 * `npm run audit:verify`: checks the audit chain of the configured database with the configured
 * master key, prints the result as JSON, and exits 0 when intact, 1 when not, 2 when it cannot run.
 */
async function main(): Promise<number> {
  const app = loadAppConfig(process.env);
  const crypto = loadCryptoConfig(process.env);
  const loaded = loadMasterKeys({
    ...crypto,
    isProduction: app.isProduction,
    dataDir: app.dataDir,
  });
  if (!loaded) throw new ConfigError(['CUSTOS_MASTER_KEY: needed to verify the audit chain']);
  const dataSource = new DataSource(buildDataSourceOptions(loadDatabaseConfig(process.env)));
  await dataSource.initialize();
  try {
    const problem = keyringProblem(
      await dataSource.getRepository(KeyringEntry).find(),
      loaded.keys,
    );
    if (problem) {
      process.stderr.write(`The master keys do not open this database: ${problem}\n`);
      return 2;
    }
    const keys = new Map(
      [...loaded.keys].map(([id, kek]) => [id, derivePurposeKey(kek, 'audit-chain')]),
    );
    const started = Date.now();
    const result = await new AuditVerifier(dataSource, (id) => keys.get(id)).verify();
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
