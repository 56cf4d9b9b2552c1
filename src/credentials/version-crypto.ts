import { Injectable } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import { EntityManager } from 'typeorm';
import { decryptSecret, encryptSecret, Kek, rewrapDek } from '../crypto/envelope';
import { KeyringService } from '../crypto/keyring.service';
import type { CredentialVersion } from './entities/credential-version.entity';
import type { CredentialType } from './secrets/credential-type';
import { DEFAULT_CANDIDATE_LIMITS } from './leak-scan/scan-candidates';
import { connectionStringPasswords } from './secrets/connection-string-secret';
import { kvFingerprintedValue, kvScannedValues } from './secrets/kv-secret';

/** The columns of a version that hold its encrypted value. */
export type SealedColumns = Pick<
  CredentialVersion,
  'ciphertext' | 'iv' | 'tag' | 'wrappedDek' | 'kekId' | 'fingerprint'
>;

/** What opening a version needs: its number (bound into the envelope) and its sealed value. */
export type OpenableVersion = Pick<
  CredentialVersion,
  'version' | 'ciphertext' | 'iv' | 'tag' | 'wrappedDek' | 'kekId'
>;

/** The field of each type's secret that a leak scan looks for in text. */
export const FINGERPRINTED_FIELD: Readonly<Record<Exclude<CredentialType, 'kv'>, string>> = {
  password: 'password',
  api_key: 'apiKey',
  oauth: 'clientSecret',
  ssh_key: 'privateKey',
  shared_secret: 'secret',
  jwt: 'token',
  connection_string: 'connectionString',
  certificate: 'privateKey',
};

/** The value of a secret that a leak scan looks for (undefined: none). */
export function fingerprintedValue(type: CredentialType, secret: Record<string, unknown>): unknown {
  return type === 'kv' ? kvFingerprintedValue(secret) : secret[FINGERPRINTED_FIELD[type]];
}

/**
 * The fields of each type's secret that are secret themselves, each of which a leak scan looks
 * for: not a client id, a public key or a certificate, which are meant to be seen.
 */
export const SCANNED_FIELDS: Readonly<Record<Exclude<CredentialType, 'kv'>, readonly string[]>> = {
  password: ['password'],
  api_key: ['apiKey'],
  oauth: ['clientSecret'],
  ssh_key: ['privateKey', 'passphrase'],
  shared_secret: ['secret'],
  jwt: ['token'],
  connection_string: ['connectionString'],
  certificate: ['privateKey'],
};

/**
 * Every value of a secret that a leak scan looks for, each once: the secret fields of its type
 * (every value of a `kv` secret, the password inside a connection string) at least as long as the shortest string a scan considers, since
 * a shorter one could never match.
 */
export function scannedValues(type: CredentialType, secret: Record<string, unknown>): string[] {
  const values: unknown[] =
    type === 'kv' ? kvScannedValues(secret) : SCANNED_FIELDS[type].map((field) => secret[field]);
  // The password inside a connection string is looked for on its own too (pasted without it).
  if (type === 'connection_string' && typeof secret.connectionString === 'string') {
    values.push(...connectionStringPasswords(secret.connectionString));
  }
  const long = values.filter(
    (value): value is string =>
      typeof value === 'string' && value.length >= DEFAULT_CANDIDATE_LIMITS.minLength,
  );
  return [...new Set(long)];
}

/** One leak-scan fingerprint of a version (a row of credential_fingerprints). */
export interface ValueFingerprint {
  fingerprint: string;
  valueLength: number;
}

/** A new version's sealed columns and the fingerprints of its values. */
export type Sealed = SealedColumns & { fingerprints: ValueFingerprint[] };

/** A new version's value, to be sealed. */
export interface ToSeal {
  credentialId: string;
  version: number;
  type: CredentialType;
  secret: Record<string, unknown>;
}

/**
 * Envelope encryption of credential versions (DESIGN.md §4.2) and their keyed fingerprints. The
 * stored value is the JSON of the secret object; the only plaintext that leaves this class goes
 * to the reveal route.
 */
@Injectable()
export class VersionCrypto {
  constructor(private readonly keyring: KeyringService) {}

  /** Encrypts a new version under the active master key, as the database says it is now. */
  async seal(
    manager: EntityManager,
    credentialId: string,
    version: number,
    type: CredentialType,
    secret: Record<string, unknown>,
  ): Promise<Sealed> {
    const [sealed] = await this.sealAll(manager, [{ credentialId, version, type, secret }]);
    return sealed;
  }

  /** seal() of several versions, with one look at which master key is active. */
  async sealAll(manager: EntityManager, versions: readonly ToSeal[]): Promise<Sealed[]> {
    if (versions.length === 0) return [];
    const kek = await this.keyring.activeKek(manager);
    return versions.map(({ credentialId, version, type, secret }) => {
      const plaintext = Buffer.from(JSON.stringify(secret), 'utf8');
      try {
        const sealed = encryptSecret(kek, plaintext, { credentialId, version });
        return {
          ciphertext: sealed.ciphertext,
          iv: sealed.iv.toString('base64'),
          tag: sealed.tag.toString('base64'),
          wrappedDek: sealed.wrappedDek.toString('base64'),
          kekId: kek.id,
          fingerprint: this.fingerprint(kek.id, type, secret),
          fingerprints: this.fingerprints(kek.id, type, secret),
        };
      } finally {
        plaintext.fill(0);
      }
    });
  }

  /** The secret object of a version; throws if anything was changed, moved or wiped. */
  open(credentialId: string, row: OpenableVersion): Record<string, unknown> {
    if (!row.ciphertext || !row.iv || !row.tag || !row.wrappedDek || !row.kekId) {
      throw new Error(`version ${row.version} holds no ciphertext`);
    }
    const plaintext = decryptSecret(
      this.keyring.kek(row.kekId),
      {
        ciphertext: row.ciphertext,
        iv: Buffer.from(row.iv, 'base64'),
        tag: Buffer.from(row.tag, 'base64'),
        wrappedDek: Buffer.from(row.wrappedDek, 'base64'),
        kekId: row.kekId,
      },
      { credentialId, version: row.version },
    );
    try {
      return JSON.parse(plaintext.toString('utf8')) as Record<string, unknown>;
    } finally {
      plaintext.fill(0);
    }
  }

  /**
   * Moves a version's data key to `target` and recomputes its fingerprint under that key, so the
   * old master key protects nothing of it any more. The value stays encrypted as it is.
   */
  rewrap(
    credentialId: string,
    type: CredentialType,
    row: OpenableVersion,
    target: Kek,
  ): Pick<Sealed, 'wrappedDek' | 'kekId' | 'fingerprint' | 'fingerprints'> {
    const secret = this.open(credentialId, row);
    const moved = rewrapDek(
      this.keyring.kek(row.kekId!),
      target,
      Buffer.from(row.wrappedDek!, 'base64'),
      { credentialId, version: row.version },
    );
    return {
      wrappedDek: moved.wrappedDek.toString('base64'),
      kekId: moved.kekId,
      fingerprint: this.fingerprint(target.id, type, secret),
      fingerprints: this.fingerprints(target.id, type, secret),
    };
  }

  /**
   * HMAC-SHA256 of the secret's main field under the fingerprint key of master key `kekId`; a
   * leak scan computes the same over candidate strings. Unlike a plain hash, it cannot be
   * brute-forced from the database alone.
   */
  fingerprint(kekId: string, type: CredentialType, secret: Record<string, unknown>): string | null {
    const field = fingerprintedValue(type, secret);
    if (typeof field !== 'string' || field === '') return null;
    const key = this.keyring.purposeKeyFor(kekId, 'fingerprint');
    if (!key) return null;
    return createHmac('sha256', key).update(field, 'utf8').digest('hex');
  }

  /** The fingerprint of every scanned value of a secret (scannedValues), as the scan computes them. */
  fingerprints(
    kekId: string,
    type: CredentialType,
    secret: Record<string, unknown>,
  ): ValueFingerprint[] {
    const key = this.keyring.purposeKeyFor(kekId, 'fingerprint');
    if (!key) return [];
    return scannedValues(type, secret).map((value) => ({
      fingerprint: createHmac('sha256', key).update(value, 'utf8').digest('hex'),
      valueLength: value.length,
    }));
  }
}
