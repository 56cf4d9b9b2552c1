import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { CryptoModule } from '../crypto/crypto.module';
import { MetricsModule } from '../metrics/metrics.module';
import { CredentialMetrics } from './credential-metrics';
import { CredentialAccess } from './credential-access';
import { CredentialChangeHooks } from './credential-change-hooks';
import { CredentialLifecycleService } from './credential-lifecycle.service';
import { CredentialQueryService } from './credential-query.service';
import { CredentialsService } from './credentials.service';
import { CredentialDecoyController } from './decoys/credential-decoy.controller';
import { CredentialDecoyService } from './decoys/credential-decoy.service';
import { CredentialsController } from './http/credentials.controller';
import { SecretsController } from './http/secrets.controller';
import { FingerprintBackfill } from './fingerprint-backfill';
import { LeakScanner } from './leak-scan/leak-scanner';
import { RevealObservers } from './reveal-observers';
import { RevealGuardHooks } from './reveal-guard-hooks';
import { RevealService } from './reveal.service';
import { SecretVersionsService } from './secret-versions.service';
import { SecretWriteHooks } from './secret-write-hooks';
import { VersionCrypto } from './version-crypto';
import { VersionRewrapParticipant } from './version-rewrap.participant';
import { VersionStore } from './version-store';

@Module({
  imports: [CryptoModule, AuditModule, AuthModule, MetricsModule],
  controllers: [CredentialsController, SecretsController, CredentialDecoyController],
  providers: [
    CredentialAccess,
    CredentialMetrics,
    VersionCrypto,
    VersionStore,
    SecretWriteHooks,
    CredentialChangeHooks,
    CredentialsService,
    CredentialQueryService,
    SecretVersionsService,
    CredentialLifecycleService,
    RevealService,
    RevealObservers,
    LeakScanner,
    CredentialDecoyService,
    RevealGuardHooks,
    VersionRewrapParticipant,
    FingerprintBackfill,
  ],
  exports: [
    CredentialAccess,
    // For the Vault KV adapter (vault-compat), which calls the same services as the routes here.
    CredentialsService,
    CredentialQueryService,
    SecretVersionsService,
    CredentialLifecycleService,
    VersionCrypto,
    VersionStore,
    SecretWriteHooks,
    CredentialChangeHooks,
    RevealService,
    RevealObservers,
    LeakScanner,
    RevealGuardHooks,
    // For tests and tools that drive a backfill pass instead of waiting for the schedule.
    FingerprintBackfill,
  ],
})
export class CredentialsModule {}
