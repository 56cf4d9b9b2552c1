import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * One keyed fingerprint of one secret value of a credential version, for leak scans: a version
 * has one per value long enough to be a secret (several for a `kv` secret or an SSH key with a
 * passphrase). `valueLength` tells the scan which lengths of substrings are worth fingerprinting;
 * the ciphertext's own length already tells as much of a single-value secret. It is null for the
 * fingerprints carried over from before it was kept (found as whole tokens only, until the
 * version is re-wrapped). Wiping a version's value deletes its rows.
 */
@Entity({ name: 'credential_fingerprints' })
@Index('idx_credential_fingerprints_fingerprint', ['fingerprint'])
@Index('idx_credential_fingerprints_length', ['valueLength'])
export class CredentialFingerprint {
  @PrimaryColumn({ name: 'credential_id', type: 'varchar', length: 36 })
  credentialId!: string;

  @PrimaryColumn({ type: 'int' })
  version!: number;

  /** HMAC-SHA256 (hex) under the fingerprint key of the master key that wraps the version. */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  fingerprint!: string;

  /** In UTF-16 code units, as the scan slices text. */
  @Column({ name: 'value_length', type: 'int', nullable: true })
  valueLength!: number | null;
}
