import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHmac } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AccessPolicy } from '../../auth/grants/access-policy';
import type { Principal } from '../../common/auth/principal';
import { dialectOf, placeholders, toDate, utcNowSql } from '../../database/dialect';
import { KeyringService } from '../../crypto/keyring.service';
import type { VersionState } from '../entities/credential-version.entity';
import { effectiveState } from '../version-states';
import { CandidateLimits, DEFAULT_CANDIDATE_LIMITS, scanCandidates } from './scan-candidates';

/** A stored, still revealable version whose value appears in a scanned text. */
export interface LeakHit {
  credentialId: string;
  path: string;
  version: number;
  state: VersionState;
  /** Whether the scanning principal may `read` the credential (and so be told of it). */
  readable: boolean;
  /** Internal only: never put in an answer (see the decoy rules in the README). */
  decoy: boolean;
}

export interface LeakScanResult {
  hits: LeakHit[];
  /** Distinct candidate strings fingerprinted. */
  candidates: number;
  /** True when the candidate cap cut the search short. */
  truncated: boolean;
}

interface MatchRow {
  credentialId: string;
  version: number | string;
  state: VersionState;
  graceUntil: Date | string | null;
  path: string;
  decoy: number | boolean | string;
  dbNow: Date | string;
}

/** Fingerprints per lookup statement: well below any placeholder limit. */
const LOOKUP_CHUNK = 500;

/**
 * Finds which stored values appear in a text without decrypting anything: a version has a
 * fingerprint for each of its secret values (VersionCrypto.fingerprints), an HMAC under a key
 * derived from the master key that wraps it, so each candidate string is HMAC'd under the fingerprint key
 * of every master key held and the results are looked up. Only current versions and previous ones
 * still in their grace count: a revoked value leaking is no longer a danger.
 */
@Injectable()
export class LeakScanner {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly keyring: KeyringService,
    private readonly policy: AccessPolicy,
  ) {}

  async scan(
    text: string,
    principal: Principal,
    limits: CandidateLimits = DEFAULT_CANDIDATE_LIMITS,
  ): Promise<LeakScanResult> {
    const candidates = scanCandidates(text, limits, await this.storedLengths());
    const fingerprints = this.fingerprintsOf(candidates.values);
    const rows: MatchRow[] = [];
    for (let i = 0; i < fingerprints.length; i += LOOKUP_CHUNK) {
      const chunk = fingerprints.slice(i, i + LOOKUP_CHUNK);
      rows.push(
        ...(await this.dataSource.query<MatchRow[]>(
          'SELECT v.credential_id AS credentialId, v.version, v.state, ' +
            `v.grace_until AS graceUntil, c.path, c.decoy, ${utcNowSql(dialectOf(this.dataSource))} AS dbNow ` +
            'FROM credential_fingerprints f JOIN credential_versions v ' +
            'ON v.credential_id = f.credential_id AND v.version = f.version ' +
            'JOIN credentials c ON c.id = v.credential_id ' +
            `WHERE f.fingerprint IN (${placeholders(chunk)}) ` +
            "AND v.state IN ('current', 'previous') AND c.status = 'active'",
          chunk,
        )),
      );
    }
    const access = rows.length > 0 ? await this.policy.forPrincipal(principal) : undefined;
    // Whether a previous version is still within its grace is the database clock's call (§5).
    const now = rows.length > 0 ? toDate(rows[0].dbNow) : new Date();
    const seen = new Set<string>();
    const hits: LeakHit[] = [];
    for (const row of rows) {
      const graceUntil = row.graceUntil === null ? null : toDate(row.graceUntil);
      const state = effectiveState({ state: row.state, graceUntil }, now);
      const key = `${row.credentialId}/${row.version}`;
      if ((state !== 'current' && state !== 'previous') || seen.has(key)) continue;
      seen.add(key);
      hits.push({
        credentialId: row.credentialId,
        path: row.path,
        version: Number(row.version),
        state,
        readable: access!.can('read', row.path),
        decoy: row.decoy === true || Number(row.decoy) === 1,
      });
    }
    hits.sort((a, b) => a.path.localeCompare(b.path) || b.version - a.version);
    return { hits, candidates: candidates.values.length, truncated: candidates.truncated };
  }

  /**
   * The lengths of the stored values, which the scan fingerprints every such substring of: from
   * the index on them, so not one row per version. A length says little that the ciphertext's
   * own length does not; lengths of values revoked but not yet wiped only cost a few candidates.
   */
  private async storedLengths(): Promise<number[]> {
    const rows = await this.dataSource.query<{ valueLength: number | string }[]>(
      'SELECT DISTINCT value_length AS valueLength FROM credential_fingerprints ' +
        'WHERE value_length IS NOT NULL',
    );
    return rows.map((row) => Number(row.valueLength));
  }

  /** Each candidate under the fingerprint key of every master key this instance holds. */
  private fingerprintsOf(values: readonly string[]): string[] {
    const fingerprints: string[] = [];
    for (const keyId of this.keyring.heldKeyIds()) {
      const key = this.keyring.purposeKeyFor(keyId, 'fingerprint');
      if (!key) continue;
      for (const value of values) {
        fingerprints.push(createHmac('sha256', key).update(value, 'utf8').digest('hex'));
      }
    }
    return fingerprints;
  }
}
