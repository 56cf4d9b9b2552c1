import { Global, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { CryptoModule } from '../crypto/crypto.module';
import { MetricsModule } from '../metrics/metrics.module';
import { AuditActivityQuery } from './audit-activity.query';
import { AuditCheckpointer } from './audit-checkpointer';
import { AuditCommittedSeq } from './audit-committed-seq';
import { AuditController } from './audit.controller';
import { AuditMetrics } from './audit-metrics';
import { AuditQueryService } from './audit-query.service';
import { AuditSeals } from './audit-seals';
import { AuditSigningKeys } from './audit-signing-keys';
import { AuditVerificationService } from './audit-verification.service';
import { AuditWriter } from './audit-writer';
import { AuditInterceptor } from './http/audit.interceptor';
import { HttpAuditRecorder } from './http/http-audit-recorder';
import { AuditOutbox } from './outbox/audit-outbox';
import { OutboxRelay } from './outbox/outbox-relay';

/** Global: every module records through AuditWriter inside its own transaction. */
@Global()
@Module({
  imports: [CryptoModule, MetricsModule],
  controllers: [AuditController],
  providers: [
    AuditWriter,
    AuditOutbox,
    OutboxRelay,
    AuditCheckpointer,
    AuditMetrics,
    AuditQueryService,
    AuditActivityQuery,
    AuditVerificationService,
    AuditCommittedSeq,
    AuditSigningKeys,
    AuditSeals,
    HttpAuditRecorder,
    { provide: APP_INTERCEPTOR, useClass: AuditInterceptor },
  ],
  exports: [
    AuditWriter,
    HttpAuditRecorder,
    OutboxRelay,
    AuditCheckpointer,
    AuditActivityQuery,
    AuditVerificationService,
    AuditCommittedSeq,
    AuditSeals,
  ],
})
export class AuditModule {}
