import 'reflect-metadata';
import { createHmac } from 'node:crypto';
import { parseArgs } from 'node:util';
import { DataSource } from 'typeorm';
import { loadAppConfig } from '../config/app.config';
import { runCliMain, UsageError } from '../config/cli-entry';
import { ConfigError } from '../config/config-error';
import { CryptoConfig, loadCryptoConfig } from '../config/crypto.config';
import { loadDatabaseConfig } from '../config/database.config';
import { fingerprintedValue, scannedValues } from '../credentials/version-crypto';
import type { CredentialType } from '../credentials/secrets/credential-type';
import { decryptSecret } from '../crypto/envelope';
import { KeyringEntry } from '../crypto/keyring-entry.entity';
import { keyringProblem } from '../crypto/keyring.service';
import { loadMasterKeys } from '../crypto/master-key-loader';
import { derivePurposeKey, KeyPurpose } from '../crypto/purpose-keys';
import { open } from '../crypto/sealed-box';
import { buildDataSourceOptions } from '../database/data-source-options';
import { webhookSecretAad } from '../webhooks/webhook-secret';

const USAGE = `Usage: node dist/src/cli/restore-check.js [--max-listed N]

Proves that the configured master keys open everything stored in the configured database
(DATABASE_URL): every credential version is decrypted (and its leak-scan fingerprints recomputed
and compared with the stored ones), every webhook signing secret and TOTP secret is opened. Boots no server and writes nothing.
Plaintext is never printed: only counts, and the ids of what failed. Exit 0 when everything
opened, 1 when anything did not, 2 when it cannot run. Used by scripts/restore-drill.

  --max-listed N   name at most N failures (default 50); the counts cover all of them`;

/** Rows read per statement. */
const PAGE = 500;

interface Tally {
  ok: number;
  failed: number;
  /** Versions whose ciphertext was wiped on purpose (state destroyed): nothing to open. */
  skipped: number;
}

interface Report {
  ok: boolean;
  keyring: string | null;
  credentialVersions: Tally;
  /**
   * Versions whose rows in credential_fingerprints are exactly what their values give (a
   * destroyed one: none); skipped counts those still listed for the upgrade backfill. Null for
   * a backup from before the table existed.
   */
  leakScanFingerprints: Tally | null;
  webhookSecrets: Tally;
  totpSecrets: Tally;
  failures: string[];
}

type VersionOutcome =
  | { opened: Record<string, unknown>; kekId: string; kek: Buffer }
  | 'destroyed'
  | { failed: string };

/** A version's rows in credential_fingerprints, as `<fingerprint>:<length>`, and its listing. */
interface StoredFingerprints {
  rows: Map<string, string[]>;
  listed: Set<string>;
}

interface VersionRow {
  credential_id: string;
  version: number;
  state: string;
  type: string;
  ciphertext: Buffer | null;
  iv: string | null;
  tag: string | null;
  wrapped_dek: string | null;
  kek_id: string | null;
  fingerprint: string | null;
}

async function main(argv: string[]): Promise<number> {
  let maxListed = 50;
  try {
    const { values } = parseArgs({
      args: argv,
      options: { 'max-listed': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    });
    if (values.help) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    if (values['max-listed'] !== undefined) {
      maxListed = Number(values['max-listed']);
      if (!Number.isInteger(maxListed) || maxListed < 0) throw new Error('--max-listed: a number');
    }
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${USAGE}`);
  }
  const app = loadAppConfig(process.env);
  const crypto = loadCryptoConfig(process.env);
  requireExplicitKey(crypto);
  const loaded = loadMasterKeys({ ...crypto, isProduction: true, dataDir: app.dataDir });
  if (!loaded) throw new ConfigError(['CUSTOS_MASTER_KEY: needed to open the stored secrets']);
  const database = loadDatabaseConfig(process.env);
  const dataSource = new DataSource(buildDataSourceOptions(database));
  await dataSource.initialize();
  try {
    const check = new RestoreCheck(dataSource, loaded.keys, crypto.masterKeyId, maxListed);
    const report = await check.run();
    print(report);
    return report.ok ? 0 : 1;
  } finally {
    await dataSource.destroy();
  }
}

/**
 * A drill must test the keys the operator kept, never a development key made up on the spot
 * (which the server's loader would create in ./data outside production).
 */
function requireExplicitKey(crypto: CryptoConfig): void {
  if (!crypto.masterKey && !crypto.masterKeyFile && !crypto.masterKeys && !crypto.masterKeysDir) {
    throw new ConfigError([
      'CUSTOS_MASTER_KEY, CUSTOS_MASTER_KEY_FILE, CUSTOS_MASTER_KEYS or CUSTOS_MASTER_KEYS_DIR: ' +
        'set the master key(s) the backup is to be opened with',
    ]);
  }
}

/** Walks every sealed value of the database and opens it with the given master keys. */
export class RestoreCheck {
  private readonly failures: string[] = [];
  private failureCount = 0;
  private readonly fingerprintKeys = new Map<string, Buffer>();

  constructor(
    private readonly dataSource: DataSource,
    private readonly keys: ReadonlyMap<string, Buffer>,
    /** The key id of sealed values written before key ids were recorded in them. */
    private readonly legacyKeyId: string,
    private readonly maxListed: number,
  ) {}

  async run(): Promise<Report> {
    // A key that fails its check value, or a missing active key, is reported; the walk still
    // goes on, so that what cannot be opened is named.
    const keyring =
      keyringProblem(await this.dataSource.getRepository(KeyringEntry).find(), this.keys) ?? null;
    const fingerprintTables = await this.fingerprintTables();
    const { versions: credentialVersions, fingerprints: leakScanFingerprints } =
      await this.versions(fingerprintTables);
    const webhookSecrets = await this.sealedColumn(
      'webhook',
      'SELECT id, secret_sealed AS sealed FROM webhook_subscriptions',
      'webhook subscription',
      webhookSecretAad,
    );
    const totpSecrets = await this.sealedColumn(
      'totp',
      'SELECT id, mfa_secret AS sealed FROM users WHERE mfa_secret IS NOT NULL',
      'user TOTP secret of',
      (id) => id,
    );
    if (this.failureCount > this.failures.length) {
      this.failures.push(`… and ${this.failureCount - this.failures.length} more`);
    }
    const ok =
      keyring === null &&
      credentialVersions.failed +
        (leakScanFingerprints?.failed ?? 0) +
        webhookSecrets.failed +
        totpSecrets.failed ===
        0;
    return {
      ok,
      keyring,
      credentialVersions,
      leakScanFingerprints,
      webhookSecrets,
      totpSecrets,
      failures: this.failures,
    };
  }

  /** Every credential version, by (credential id, version), a page at a time. */
  private async versions(
    tables: FingerprintTables,
  ): Promise<{ versions: Tally; fingerprints: Tally | null }> {
    const tally: Tally = { ok: 0, failed: 0, skipped: 0 };
    const fingerprints: Tally | null = tables.rows ? { ok: 0, failed: 0, skipped: 0 } : null;
    let after: [string, number] = ['', -1];
    for (;;) {
      const rows = await this.dataSource.query<VersionRow[]>(
        'SELECT v.credential_id, v.version, v.state, c.type, v.ciphertext, v.iv, v.tag, ' +
          'v.wrapped_dek, v.kek_id, v.fingerprint FROM credential_versions v ' +
          'JOIN credentials c ON c.id = v.credential_id ' +
          'WHERE v.credential_id > ? OR (v.credential_id = ? AND v.version > ?) ' +
          `ORDER BY v.credential_id, v.version LIMIT ${PAGE}`,
        [after[0], after[0], after[1]],
      );
      const stored = fingerprints ? await this.storedFingerprints(rows, tables) : null;
      for (const row of rows) {
        const outcome = this.openVersion(row);
        const name = `credential ${row.credential_id} version ${row.version} (${row.state})`;
        if (outcome === 'destroyed') tally.skipped++;
        else if ('opened' in outcome) tally.ok++;
        else {
          tally.failed++;
          this.fail(`${name}: ${outcome.failed}`);
        }
        if (!fingerprints || !stored || (typeof outcome === 'object' && 'failed' in outcome))
          continue;
        const problem = this.compareFingerprints(row, outcome, stored);
        if (problem === 'ok') fingerprints.ok++;
        else if (problem === 'listed') fingerprints.skipped++;
        else {
          fingerprints.failed++;
          this.fail(`${name}: ${problem.problem}`);
        }
      }
      if (rows.length < PAGE) return { versions: tally, fingerprints };
      const last = rows[rows.length - 1];
      after = [last.credential_id, Number(last.version)];
    }
  }

  /** Whether the version opens (and its fingerprint matches), else why not; never a value. */
  private openVersion(row: VersionRow): VersionOutcome {
    const failed = (reason: string): VersionOutcome => ({ failed: reason });
    // Destroying a version wipes its value and data key for good (its kek_id stays).
    const wiped = [row.ciphertext, row.iv, row.tag, row.wrapped_dek];
    if (row.state === 'destroyed' && wiped.every((part) => part === null)) return 'destroyed';
    if ([...wiped, row.kek_id].some((part) => part === null))
      return failed('ciphertext or data key missing');
    const kekId = row.kek_id!;
    const kek = this.keys.get(kekId);
    if (!kek) return failed(`wrapped by master key "${kekId}", which is not configured`);
    let plaintext: Buffer;
    try {
      plaintext = decryptSecret(
        { id: kekId, key: kek },
        {
          ciphertext: Buffer.from(row.ciphertext!),
          iv: Buffer.from(row.iv!, 'base64'),
          tag: Buffer.from(row.tag!, 'base64'),
          wrappedDek: Buffer.from(row.wrapped_dek!, 'base64'),
          kekId,
        },
        { credentialId: row.credential_id, version: Number(row.version) },
      );
    } catch {
      // The cipher's own message says nothing of the value, but one fixed text is certain not to.
      return failed('does not decrypt (changed, moved, or wrapped by another key)');
    }
    try {
      let secret: unknown;
      try {
        secret = JSON.parse(plaintext.toString('utf8'));
      } catch {
        // JSON.parse's message quotes the text it choked on: never pass it on.
        return failed('decrypts, but not to a JSON object');
      }
      if (typeof secret !== 'object' || secret === null)
        return failed('decrypts, but not to a JSON object');
      if (row.fingerprint !== null) {
        const field = fingerprintedValue(
          row.type as CredentialType,
          secret as Record<string, unknown>,
        );
        const expected =
          typeof field === 'string' && field !== ''
            ? createHmac('sha256', this.fingerprintKey(kekId, kek))
                .update(field, 'utf8')
                .digest('hex')
            : null;
        if (expected !== row.fingerprint)
          return failed('decrypts, but its leak-scan fingerprint differs');
      }
      return { opened: secret as Record<string, unknown>, kekId, kek };
    } finally {
      plaintext.fill(0);
    }
  }

  /**
   * Whether a version's leak-scan fingerprint rows are exactly what its value gives under the key
   * that wraps it (a destroyed version: none at all); 'listed' while the upgrade backfill has yet
   * to complete it. Says how many rows differ, never a value, a fingerprint or a length.
   */
  private compareFingerprints(
    row: VersionRow,
    outcome: Exclude<VersionOutcome, { failed: string }>,
    stored: StoredFingerprints,
  ): 'ok' | 'listed' | { problem: string } {
    const key = versionKey(row.credential_id, row.version);
    const actual = stored.rows.get(key) ?? [];
    if (outcome === 'destroyed') {
      return actual.length === 0
        ? 'ok'
        : { problem: 'destroyed, but leak-scan fingerprints remain' };
    }
    if (stored.listed.has(key)) return 'listed';
    const hmac = this.fingerprintKey(outcome.kekId, outcome.kek);
    const expected = scannedValues(row.type as CredentialType, outcome.opened).map(
      (value) =>
        `${createHmac('sha256', hmac).update(value, 'utf8').digest('hex')}:${value.length}`,
    );
    const missing = expected.filter((e) => !actual.includes(e)).length;
    const extra = actual.filter((a) => !expected.includes(a)).length;
    if (missing === 0 && extra === 0) return 'ok';
    return {
      problem: `its leak-scan fingerprint rows differ from its values (${missing} missing, ${extra} not from its values)`,
    };
  }

  /** Which of the fingerprint tables the restored database has (a backup may predate them). */
  private async fingerprintTables(): Promise<FingerprintTables> {
    const exists = (table: string) =>
      this.dataSource.query(`SELECT 1 FROM ${table} LIMIT 1`).then(
        () => true,
        () => false,
      );
    return {
      rows: await exists('credential_fingerprints'),
      listing: await exists('credential_fingerprint_backfill'),
    };
  }

  /** The fingerprint rows and backfill listing of a page of versions. */
  private async storedFingerprints(
    versions: readonly VersionRow[],
    tables: FingerprintTables,
  ): Promise<StoredFingerprints> {
    const stored: StoredFingerprints = { rows: new Map(), listed: new Set() };
    if (versions.length === 0) return stored;
    const where = `WHERE (credential_id, version) IN (${versions.map(() => '(?, ?)').join(', ')})`;
    const params = versions.flatMap((v) => [v.credential_id, Number(v.version)]);
    const rows = await this.dataSource.query<
      { credential_id: string; version: number; fingerprint: string; value_length: number | null }[]
    >(
      `SELECT credential_id, version, fingerprint, value_length FROM credential_fingerprints ${where}`,
      params,
    );
    for (const row of rows) {
      const key = versionKey(row.credential_id, row.version);
      const list = stored.rows.get(key) ?? [];
      list.push(
        `${row.fingerprint}:${row.value_length === null ? 'null' : Number(row.value_length)}`,
      );
      stored.rows.set(key, list);
    }
    if (tables.listing) {
      const listed = await this.dataSource.query<{ credential_id: string; version: number }[]>(
        `SELECT credential_id, version FROM credential_fingerprint_backfill ${where}`,
        params,
      );
      for (const row of listed) stored.listed.add(versionKey(row.credential_id, row.version));
    }
    return stored;
  }

  private fingerprintKey(kekId: string, kek: Buffer): Buffer {
    let key = this.fingerprintKeys.get(kekId);
    if (!key) this.fingerprintKeys.set(kekId, (key = derivePurposeKey(kek, 'fingerprint')));
    return key;
  }

  /** Values sealed with KeyringService.sealValue (`<key id>:<sealed>`) in one column. */
  private async sealedColumn(
    purpose: KeyPurpose,
    sql: string,
    label: string,
    aadOf: (id: string) => string,
  ): Promise<Tally> {
    const tally: Tally = { ok: 0, failed: 0, skipped: 0 };
    const rows = await this.dataSource.query<{ id: string; sealed: string }[]>(sql);
    for (const row of rows) {
      const separator = row.sealed.indexOf(':');
      const keyId = separator > 0 ? row.sealed.slice(0, separator) : this.legacyKeyId;
      const body = separator > 0 ? row.sealed.slice(separator + 1) : row.sealed;
      const kek = this.keys.get(keyId);
      let problem: string | null = null;
      if (!kek) problem = `sealed by master key "${keyId}", which is not configured`;
      else {
        try {
          open(derivePurposeKey(kek, purpose), body, aadOf(row.id));
        } catch {
          problem = 'does not open (changed, moved, or sealed by another key)';
        }
      }
      if (problem === null) tally.ok++;
      else {
        tally.failed++;
        this.fail(`${label} ${row.id}: ${problem}`);
      }
    }
    return tally;
  }

  private fail(line: string): void {
    this.failureCount++;
    if (this.failures.length < this.maxListed) this.failures.push(line);
  }
}

interface FingerprintTables {
  rows: boolean;
  listing: boolean;
}

function versionKey(credentialId: string, version: number | string): string {
  return `${credentialId}/${Number(version)}`;
}

function print(report: Report): void {
  const line = (text: string) => process.stdout.write(`${text}\n`);
  const tally = (t: Tally, opened: string) =>
    `${t.ok} ${opened}, ${t.failed} failed` +
    (t.skipped ? `, ${t.skipped} destroyed (skipped)` : '');
  if (report.keyring) line(`master keys: ${report.keyring}`);
  line(`credential versions: ${tally(report.credentialVersions, 'decrypted')}`);
  const prints = report.leakScanFingerprints;
  line(
    prints
      ? `leak-scan fingerprints: ${prints.ok} versions match, ${prints.failed} differ` +
          (prints.skipped ? `, ${prints.skipped} awaiting the upgrade backfill` : '')
      : 'leak-scan fingerprints: no table (a backup from before migration 1764000002000)',
  );
  line(`webhook secrets: ${tally(report.webhookSecrets, 'opened')}`);
  line(`TOTP secrets: ${tally(report.totpSecrets, 'opened')}`);
  for (const failure of report.failures) line(`FAILED ${failure}`);
  line(`RESULT ${JSON.stringify({ ...report, failures: undefined })}`);
}

if (require.main === module) runCliMain(main);
