import { AuditChainHead } from '../audit/entities/audit-chain-head.entity';
import { AuditCheckpoint } from '../audit/entities/audit-checkpoint.entity';
import { AuditEvent } from '../audit/entities/audit-event.entity';
import { OutboxMessage } from '../audit/entities/outbox-message.entity';
import { AccessGrant } from '../auth/grants/access-grant.entity';
import { ApiKey } from '../auth/service-accounts/api-key.entity';
import { ServiceAccount } from '../auth/service-accounts/service-account.entity';
import { RefreshToken } from '../auth/sessions/refresh-token.entity';
import { User } from '../auth/users/user.entity';
import { Credential } from '../credentials/entities/credential.entity';
import { CredentialFingerprint } from '../credentials/entities/credential-fingerprint.entity';
import { CredentialFingerprintBackfill } from '../credentials/entities/credential-fingerprint-backfill.entity';
import { CredentialTag } from '../credentials/entities/credential-tag.entity';
import { CredentialVersion } from '../credentials/entities/credential-version.entity';
import { Incident } from '../incidents/entities/incident.entity';
import { IncidentCredential } from '../incidents/entities/incident-credential.entity';
import { IncidentPrincipal } from '../incidents/entities/incident-principal.entity';
import { IncidentTimelineEntry } from '../incidents/entities/incident-timeline-entry.entity';
import { KeyringEntry } from '../crypto/keyring-entry.entity';
import { OutboxEvent } from '../events/event-outbox.entity';
import { EventStreamHead } from '../events/event-stream-head.entity';
import { RotationAdoptionWarning } from '../rotation/entities/rotation-adoption-warning.entity';
import { RotationPolicy } from '../rotation/entities/rotation-policy.entity';
import { RotationRun } from '../rotation/entities/rotation-run.entity';
import { WebhookDelivery } from '../webhooks/entities/webhook-delivery.entity';
import { WebhookFanoutCursor } from '../webhooks/entities/webhook-fanout-cursor.entity';
import { WebhookSubscription } from '../webhooks/entities/webhook-subscription.entity';
import { Lease } from './lease.entity';
import { DetectorCursor } from '../incidents/detectors/detector-cursor.entity';

/** Every entity of the schema; the migrations must describe exactly these (see migration:check). */
export const ENTITIES = [
  KeyringEntry,
  AuditEvent,
  AuditChainHead,
  AuditCheckpoint,
  OutboxMessage,
  Lease,
  User,
  RefreshToken,
  ServiceAccount,
  ApiKey,
  AccessGrant,
  Credential,
  CredentialTag,
  CredentialVersion,
  CredentialFingerprint,
  CredentialFingerprintBackfill,
  RotationPolicy,
  RotationRun,
  OutboxEvent,
  EventStreamHead,
  WebhookSubscription,
  WebhookDelivery,
  WebhookFanoutCursor,
  RotationAdoptionWarning,
  Incident,
  IncidentCredential,
  IncidentPrincipal,
  IncidentTimelineEntry,
  DetectorCursor,
];
