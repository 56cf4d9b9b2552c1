import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { encryptSecret } from '../crypto/envelope';
import { computeCheckValue, derivePurposeKey } from '../crypto/purpose-keys';
import { seal } from '../crypto/sealed-box';
import { webhookSecretAad } from '../webhooks/webhook-secret';
import { RestoreCheck } from './restore-check';

const K1 = randomBytes(32);
const K2 = randomBytes(32);

interface Tables {
  keyring: { id: string; status: string; checkValue: string }[];
  versions: Record<string, unknown>[];
  webhooks: { id: string; sealed: string }[];
  totp: { id: string; sealed: string }[];
  /** Rows of credential_fingerprints; undefined: a backup from before the table. */
  fingerprints?: FingerprintRow[];
  /** Rows of credential_fingerprint_backfill; undefined: a backup from before the table. */
  listed?: { credential_id: string; version: number }[];
}

interface FingerprintRow {
  credential_id: string;
  version: number;
  fingerprint: string;
  value_length: number | null;
}

/** The rows of `rows` whose (credential_id, version) is among the IN list's parameters. */
function inKeys<T extends { credential_id: string; version: number }>(
  rows: T[],
  params: unknown[],
): T[] {
  const keys = new Set<string>();
  for (let i = 0; i < params.length; i += 2)
    keys.add(`${params[i] as string}/${params[i + 1] as number}`);
  return rows.filter((row) => keys.has(`${row.credential_id}/${row.version}`));
}

/** A DataSource that answers RestoreCheck's statements from in-memory rows. */
function fakeDataSource(tables: Tables): DataSource {
  return {
    getRepository: () => ({ find: () => Promise.resolve(tables.keyring) }),
    query: (sql: string, params: unknown[] = []) => {
      if (sql.includes('FROM credential_versions')) {
        const [afterId, , afterVersion] = params as [string, string, number];
        return Promise.resolve(
          tables.versions.filter(
            (v) =>
              (v.credential_id as string) > afterId ||
              (v.credential_id === afterId && (v.version as number) > afterVersion),
          ),
        );
      }
      for (const [table, rows] of [
        ['credential_fingerprints', tables.fingerprints],
        ['credential_fingerprint_backfill', tables.listed],
      ] as const) {
        if (!sql.includes(`FROM ${table} `)) continue;
        if (!rows) return Promise.reject(new Error(`no such table: ${table}`));
        return Promise.resolve(sql.includes('LIMIT 1') ? rows.slice(0, 1) : inKeys(rows, params));
      }
      if (sql.includes('FROM webhook_subscriptions')) return Promise.resolve(tables.webhooks);
      if (sql.includes('FROM users')) return Promise.resolve(tables.totp);
      throw new Error(`unexpected statement: ${sql}`);
    },
  } as unknown as DataSource;
}

function version(
  credentialId: string,
  n: number,
  secret: Record<string, unknown>,
  kekId = 'k1',
  kek = K1,
): Record<string, unknown> {
  const sealed = encryptSecret({ id: kekId, key: kek }, Buffer.from(JSON.stringify(secret)), {
    credentialId,
    version: n,
  });
  return {
    credential_id: credentialId,
    version: n,
    state: 'current',
    type: 'password',
    ciphertext: sealed.ciphertext,
    iv: sealed.iv.toString('base64'),
    tag: sealed.tag.toString('base64'),
    wrapped_dek: sealed.wrappedDek.toString('base64'),
    kek_id: kekId,
    fingerprint: createHmac('sha256', derivePurposeKey(kek, 'fingerprint'))
      .update(secret.password as string)
      .digest('hex'),
  };
}

/** The rows a fresh write gives a version: one per scanned value, with its length. */
function fingerprintRows(
  credentialId: string,
  n: number,
  values: string[],
  kek = K1,
): FingerprintRow[] {
  return values.map((value) => ({
    credential_id: credentialId,
    version: n,
    fingerprint: createHmac('sha256', derivePurposeKey(kek, 'fingerprint'))
      .update(value)
      .digest('hex'),
    value_length: value.length,
  }));
}

/** The sealed columns and main-field fingerprint of a kv secret (its longest value). */
function sealedAs(
  credentialId: string,
  n: number,
  secret: Record<string, string>,
): Record<string, unknown> {
  const sealed = encryptSecret({ id: 'k1', key: K1 }, Buffer.from(JSON.stringify(secret)), {
    credentialId,
    version: n,
  });
  const longest = Object.values(secret).sort((a, b) => b.length - a.length)[0];
  return {
    ciphertext: sealed.ciphertext,
    iv: sealed.iv.toString('base64'),
    tag: sealed.tag.toString('base64'),
    wrapped_dek: sealed.wrappedDek.toString('base64'),
    fingerprint: createHmac('sha256', derivePurposeKey(K1, 'fingerprint'))
      .update(longest)
      .digest('hex'),
  };
}

const keyring = (...ids: [string, Buffer, string][]) =>
  ids.map(([id, key, status]) => ({ id, status, checkValue: computeCheckValue(key) }));

describe('RestoreCheck', () => {
  const ids = [randomUUID(), randomUUID(), randomUUID()].sort();

  it('should open every version, webhook and TOTP secret under the keys that sealed them', async () => {
    const webhookId = randomUUID();
    const userId = randomUUID();
    const tables: Tables = {
      keyring: keyring(['k1', K1, 'retired'], ['k2', K2, 'active']),
      versions: [
        version(ids[0], 1, { password: 'first-secret' }),
        version(ids[0], 2, { password: 'second-secret' }, 'k2', K2),
        {
          ...version(ids[1], 1, { password: 'gone' }),
          state: 'destroyed',
          ciphertext: null,
          iv: null,
          tag: null,
          wrapped_dek: null,
          fingerprint: null,
        },
      ],
      webhooks: [
        {
          id: webhookId,
          sealed: `k2:${seal(derivePurposeKey(K2, 'webhook'), 'whsec_x', webhookSecretAad(webhookId))}`,
        },
      ],
      // A value from before key ids were recorded belongs to the legacy key id.
      totp: [{ id: userId, sealed: seal(derivePurposeKey(K1, 'totp'), 'JBSWY3DP', userId) }],
      fingerprints: [
        ...fingerprintRows(ids[0], 1, ['first-secret']),
        ...fingerprintRows(ids[0], 2, ['second-secret'], K2),
      ],
      listed: [],
    };
    const keys = new Map([
      ['k1', K1],
      ['k2', K2],
    ]);

    const report = await new RestoreCheck(fakeDataSource(tables), keys, 'k1', 50).run();

    expect(report).toEqual({
      ok: true,
      keyring: null,
      credentialVersions: { ok: 2, failed: 0, skipped: 1 },
      leakScanFingerprints: { ok: 3, failed: 0, skipped: 0 },
      webhookSecrets: { ok: 1, failed: 0, skipped: 0 },
      totpSecrets: { ok: 1, failed: 0, skipped: 0 },
      failures: [],
    });
  });

  it('should name what fails, and why, without a value', async () => {
    const swapped = version(ids[1], 1, { password: 'swapped-secret' });
    const tables: Tables = {
      keyring: keyring(['k1', K1, 'active']),
      versions: [
        // A ciphertext moved to another credential does not decrypt (AAD binds the id).
        { ...version(ids[0], 1, { password: 'moved-secret' }), credential_id: ids[2] },
        { ...swapped, fingerprint: 'f'.repeat(64) },
        version(ids[2], 2, { password: 'k9-secret' }, 'k9', randomBytes(32)),
      ],
      webhooks: [],
      totp: [],
    };

    const report = await new RestoreCheck(
      fakeDataSource(tables),
      new Map([['k1', K1]]),
      'k1',
      50,
    ).run();

    expect(report.ok).toBe(false);
    expect(report.credentialVersions).toEqual({ ok: 0, failed: 3, skipped: 0 });
    expect(report.failures).toEqual([
      `credential ${ids[2]} version 1 (current): does not decrypt (changed, moved, or wrapped by another key)`,
      `credential ${ids[1]} version 1 (current): decrypts, but its leak-scan fingerprint differs`,
      `credential ${ids[2]} version 2 (current): wrapped by master key "k9", which is not configured`,
    ]);
    expect(JSON.stringify(report)).not.toMatch(/moved-secret|swapped-secret|k9-secret/);
  });

  it('should fail when the keys do not match the keyring, and cap the failures it lists', async () => {
    const wrong = randomBytes(32);
    const tables: Tables = {
      keyring: keyring(['k1', K1, 'active']),
      versions: ids.map((id) => version(id, 1, { password: `secret-${id}` })),
      webhooks: [],
      totp: [],
    };

    const report = await new RestoreCheck(
      fakeDataSource(tables),
      new Map([['k1', wrong]]),
      'k1',
      2,
    ).run();

    expect(report.ok).toBe(false);
    expect(report.keyring).toBe('the master key does not match the stored check value of key "k1"');
    expect(report.credentialVersions.failed).toBe(3);
    expect(report.failures).toHaveLength(3);
    expect(report.failures[2]).toBe('… and 1 more');
  });
  it("should check each version's leak-scan fingerprint rows against its values, naming only ids and counts", async () => {
    const kv = {
      ...version(ids[0], 1, { password: 'unused' }),
      type: 'kv',
      ...sealedAs(ids[0], 1, {
        accessKeyId: 'AKIA-id-value',
        secretAccessKey: 'kv-secret-value-40',
      }),
    };
    const listedVersion = version(ids[1], 1, { password: 'awaiting-backfill' });
    const wiped = {
      ...version(ids[2], 1, { password: 'wiped-value' }),
      state: 'destroyed',
      ciphertext: null,
      iv: null,
      tag: null,
      wrapped_dek: null,
      fingerprint: null,
    };
    const matching = version(ids[2], 2, { password: 'matching-value' });
    const tables: Tables = {
      keyring: keyring(['k1', K1, 'active']),
      versions: [kv, listedVersion, wiped, matching],
      webhooks: [],
      totp: [],
      fingerprints: [
        // Only the longest kv value, as migration 1764000002000 carried it over, yet not listed.
        ...fingerprintRows(ids[0], 1, ['kv-secret-value-40']),
        { ...fingerprintRows(ids[1], 1, ['awaiting-backfill'])[0], value_length: null },
        ...fingerprintRows(ids[2], 1, ['wiped-value']),
        ...fingerprintRows(ids[2], 2, ['matching-value']),
      ],
      listed: [{ credential_id: ids[1], version: 1 }],
    };

    const report = await new RestoreCheck(
      fakeDataSource(tables),
      new Map([['k1', K1]]),
      'k1',
      50,
    ).run();

    expect(report.ok).toBe(false);
    expect(report.credentialVersions).toEqual({ ok: 3, failed: 0, skipped: 1 });
    expect(report.leakScanFingerprints).toEqual({ ok: 1, failed: 2, skipped: 1 });
    expect(report.failures).toEqual([
      `credential ${ids[0]} version 1 (current): its leak-scan fingerprint rows differ from its values (1 missing, 0 not from its values)`,
      `credential ${ids[2]} version 1 (destroyed): destroyed, but leak-scan fingerprints remain`,
    ]);
    expect(JSON.stringify(report)).not.toMatch(
      /AKIA-id-value|kv-secret-value|wiped-value|[0-9a-f]{64}/,
    );
  });

  it('should pass a backup from before the fingerprint table, saying it has none', async () => {
    const tables: Tables = {
      keyring: keyring(['k1', K1, 'active']),
      versions: [version(ids[0], 1, { password: 'old-backup-secret' })],
      webhooks: [],
      totp: [],
    };

    const report = await new RestoreCheck(
      fakeDataSource(tables),
      new Map([['k1', K1]]),
      'k1',
      50,
    ).run();

    expect(report.ok).toBe(true);
    expect(report.leakScanFingerprints).toBeNull();
  });
});
