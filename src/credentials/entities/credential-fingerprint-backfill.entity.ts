import { Entity, PrimaryColumn } from 'typeorm';

/**
 * A version whose leak-scan fingerprints are incomplete: stored before every value had its own
 * fingerprint and length (migration 1764000002000 carried over one fingerprint without a
 * length), and every version of a connection string, whose password is now looked for alone.
 * Migration 1764000002200 lists them; FingerprintBackfill recomputes their rows and
 * removes them from here, so once it has drained the table a pass costs one empty read.
 */
@Entity({ name: 'credential_fingerprint_backfill' })
export class CredentialFingerprintBackfill {
  @PrimaryColumn({ name: 'credential_id', type: 'varchar', length: 36 })
  credentialId!: string;

  @PrimaryColumn({ type: 'int' })
  version!: number;
}
