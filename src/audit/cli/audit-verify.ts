import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { loadAppConfig } from '../../config/app.config';
import { runCliMain, UsageError } from '../../config/cli-entry';
import { ConfigError } from '../../config/config-error';
import { loadCryptoConfig } from '../../config/crypto.config';
import { loadDatabaseConfig } from '../../config/database.config';
import { KeyringEntry } from '../../crypto/keyring-entry.entity';
import { keyringProblem } from '../../crypto/keyring.service';
import { loadMasterKeys } from '../../crypto/master-key-loader';
import { derivePurposeKey } from '../../crypto/purpose-keys';
import { buildDataSourceOptions } from '../../database/data-source-options';
import { AuditVerifier, AuditVerifyKeys } from '../audit-verifier';
import { checkpointKeyPair, CheckpointStatement } from '../chain/checkpoint-signature';
import { AuditCheckpointStatementDto, toCheckpointStatement } from '../dto/audit-checkpoint.dto';

const USAGE = `Usage: npm run audit:verify [-- --checkpoint FILE]

Checks the audit chain of the configured database with the configured master keys, prints the
result as JSON and exits 0 when intact, 1 when not, 2 when it cannot run.

  --checkpoint FILE   also check a checkpoint kept outside the database: FILE holds the NDJSON
                      line a sink received (the last "audit.checkpoint" line of FILE counts).
                      Its Ed25519 signature must hold, and every lane head it states must
                      still be in the chain.`;

async function main(argv: string[]): Promise<number> {
  let values: { checkpoint?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { checkpoint: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${USAGE}`);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const checkpoint =
    values.checkpoint === undefined ? undefined : readCheckpoint(values.checkpoint);
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
    const started = Date.now();
    const result = await new AuditVerifier(dataSource, keysOf(loaded.keys)).verify({ checkpoint });
    process.stdout.write(`${JSON.stringify({ ...result, ms: Date.now() - started })}\n`);
    return result.ok ? 0 : 1;
  } finally {
    await dataSource.destroy();
  }
}

/** The chain keys and checkpoint public keys of the given master keys, derived as the app does. */
function keysOf(masterKeys: ReadonlyMap<string, Buffer>): AuditVerifyKeys {
  const chain = new Map<string, Buffer>();
  const publicKeys = new Map<string, KeyObject>();
  for (const [id, kek] of masterKeys) {
    chain.set(id, derivePurposeKey(kek, 'audit-chain'));
    publicKeys.set(id, checkpointKeyPair(derivePurposeKey(kek, 'audit-checkpoint')).publicKey);
  }
  return { chainKey: (id) => chain.get(id), publicKey: (id) => publicKeys.get(id) };
}

/** The last `audit.checkpoint` line of the file, checked for shape like the API's body. */
function readCheckpoint(path: string): CheckpointStatement {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`Cannot read ${path}: ${(error as Error).message}`);
  }
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  let found: unknown;
  for (const [index, line] of lines.entries()) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new UsageError(`${path}, line ${index + 1}: not JSON`);
    }
    if ((parsed as { type?: unknown } | null)?.type === 'audit.checkpoint') found = parsed;
  }
  if (found === undefined) throw new UsageError(`${path} holds no "audit.checkpoint" line`);
  const dto = plainToInstance(AuditCheckpointStatementDto, found);
  const errors = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length > 0) {
    const fields = errors.map((error) => error.property).join(', ');
    throw new UsageError(`${path}: the checkpoint line is not well-formed (${fields})`);
  }
  return toCheckpointStatement(dto);
}

runCliMain(main);
