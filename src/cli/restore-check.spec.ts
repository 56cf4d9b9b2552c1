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
});
