import { Keyring1764000000000 } from './1764000000000-keyring';
import { Audit1764000000100 } from './1764000000100-audit';
import { Leases1764000000200 } from './1764000000200-leases';
import { Users1764000000300 } from './1764000000300-users';
import { ServiceAccountsGrants1764000000400 } from './1764000000400-service-accounts-grants';
import { TotpLastStep1764000000500 } from './1764000000500-totp-last-step';
import { Credentials1764000000600 } from './1764000000600-credentials';
import { AuditHeadsGuardEd25519Checkpoints1764000000700 } from './1764000000700-audit-heads-guard-ed25519';
import { Rotation1764000001000 } from './1764000001000-rotation';
import { RotationPolicyDefaultGrace1764000001100 } from './1764000001100-rotation-policy-default-grace';
import { NullSafeLiveChecks1764000001200 } from './1764000001200-null-safe-live-checks';
import { VersionRetirement1764000001300 } from './1764000001300-version-retirement';
import { Webhooks1764000001400 } from './1764000001400-webhooks';
import { EventStreamSeq1764000001500 } from './1764000001500-event-stream-seq';
import { RotationAdoption1764000001510 } from './1764000001510-rotation-adoption';
import { Incidents1764000001600 } from './1764000001600-incidents';
import { LeakScan1764000001700 } from './1764000001700-leak-scan';
import { IncidentDetectors1764000001800 } from './1764000001800-incident-detectors';
import { CredentialFingerprints1764000002000 } from './1764000002000-credential-fingerprints';
import { IncidentTimelineAppendOnly1764000002100 } from './1764000002100-incident-timeline-append-only';
import { CredentialFingerprintBackfill1764000002200 } from './1764000002200-credential-fingerprint-backfill';

/** SQLite migrations in order, mirroring the MariaDB ones. Never edit one that has shipped. */
export const SQLITE_MIGRATIONS = [
  Keyring1764000000000,
  Audit1764000000100,
  Leases1764000000200,
  Users1764000000300,
  ServiceAccountsGrants1764000000400,
  TotpLastStep1764000000500,
  Credentials1764000000600,
  AuditHeadsGuardEd25519Checkpoints1764000000700,
  Rotation1764000001000,
  RotationPolicyDefaultGrace1764000001100,
  NullSafeLiveChecks1764000001200,
  VersionRetirement1764000001300,
  Webhooks1764000001400,
  EventStreamSeq1764000001500,
  RotationAdoption1764000001510,
  Incidents1764000001600,
  LeakScan1764000001700,
  IncidentDetectors1764000001800,
  CredentialFingerprints1764000002000,
  IncidentTimelineAppendOnly1764000002100,
  CredentialFingerprintBackfill1764000002200,
];
