import { Module, OnModuleInit } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { CredentialChangeHooks } from '../credentials/credential-change-hooks';
import { CredentialsModule } from '../credentials/credentials.module';
import { CryptoModule } from '../crypto/crypto.module';
import { MetricsModule } from '../metrics/metrics.module';
import { OutboundModule } from '../outbound/outbound.module';
import { AdoptionMetrics } from './adoption/adoption-metrics';
import { AdoptionService } from './adoption/adoption.service';
import { AdoptionTracker } from './adoption/adoption-tracker';
import { AdoptionWatch } from './adoption/adoption-watch';
import { DueStarter } from './engine/due-starter';
import { EmergencyRotations } from './engine/emergency-rotation.service';
import { ManualWriteHook } from './engine/manual-write.hook';
import { RotationRequests } from './engine/rotation-requests.service';
import { RotationRunQuery } from './engine/rotation-run.query';
import { RotationScheduler } from './engine/rotation-scheduler';
import { RunEvents } from './engine/run-events';
import { RunExecutor } from './engine/run-executor';
import { RunStore } from './engine/run-store';
import { CredentialRotationsController } from './http/credential-rotations.controller';
import { RotationsController } from './http/rotations.controller';
import { RotationAdoptionController } from './http/rotation-adoption.controller';
import { CredentialRotationPolicyController } from './http/credential-rotation-policy.controller';
import { RotationPoliciesController } from './http/rotation-policies.controller';
import { CredentialPolicyService } from './policy/credential-policy.service';
import { PatternPolicyService } from './policy/pattern-policy.service';
import { PatternRescheduler } from './policy/pattern-rescheduler';
import { PolicyCredentialHook } from './policy/policy-credential-hook';
import { RotationPolicyService } from './policy/rotation-policy.service';
import { RotationPolicyValidator } from './policy/rotation-policy-validator';
import { PolicySource } from './policy/policy-source';
import { RotationScheduleController } from './http/rotation-schedule.controller';
import { RotationMetrics } from './rotation-metrics';
import type { Rotator } from './rotators/rotator';
import { CONNECTED_ROTATORS, RotatorRegistry } from './rotators/rotator-registry';
import { WebhookRotator } from './rotators/webhook.rotator';
import { AdminLoginReader } from './rotators/mariadb/admin-login-reader';
import { MariadbRotator } from './rotators/mariadb.rotator';
import { RotationScheduleQuery } from './schedule/rotation-schedule.query';
import { ExpiryWatch } from './sweeper/expiry-watch';
import { GraceSweeper } from './sweeper/grace-sweeper';
import { RetireSchedule } from './sweeper/retire-schedule';
import { SweepSchedule } from './sweeper/sweep-schedule';
import { VersionRetirer } from './sweeper/version-retirer';

/** Rotators that need services (the registry is handed them) and what they share. */

const POLICY_PROVIDERS = [
  RotationPolicyService,
  RotationPolicyValidator,
  CredentialPolicyService,
  PatternPolicyService,
  PatternRescheduler,
  PolicyCredentialHook,
];

const ENGINE_PROVIDERS = [
  RunStore,
  RunEvents,
  RunExecutor,
  DueStarter,
  RotationScheduler,
  RotationRequests,
  EmergencyRotations,
  RotationRunQuery,
  ManualWriteHook,
];

const ADOPTION_PROVIDERS = [AdoptionTracker, AdoptionService, AdoptionWatch, AdoptionMetrics];

const SCHEDULE_PROVIDERS = [
  RotationMetrics,
  RotationScheduleQuery,
  GraceSweeper,
  ExpiryWatch,
  SweepSchedule,
  VersionRetirer,
  RetireSchedule,
];

/** Scheduled, crash-safe rotation of credentials (DESIGN.md §5). */
@Module({
  imports: [CredentialsModule, CryptoModule, AuthModule, MetricsModule, OutboundModule],
  controllers: [
    CredentialRotationPolicyController,
    RotationPoliciesController,
    CredentialRotationsController,
    RotationScheduleController,
    RotationsController,
    RotationAdoptionController,
  ],
  providers: [
    WebhookRotator,
    MariadbRotator,
    AdminLoginReader,
    {
      provide: CONNECTED_ROTATORS,
      inject: [WebhookRotator, MariadbRotator],
      useFactory: (...rotators: Rotator[]) => rotators,
    },
    RotatorRegistry,
    ...POLICY_PROVIDERS,
    { provide: PolicySource, useExisting: RotationPolicyService },
    ...ENGINE_PROVIDERS,
    ...SCHEDULE_PROVIDERS,
    ...ADOPTION_PROVIDERS,
  ],
  exports: [
    RotatorRegistry,
    RotationPolicyService,
    RotationRequests,
    RotationScheduler,
    RotationMetrics,
    RotationScheduleQuery,
  ],
})
export class RotationModule implements OnModuleInit {
  constructor(
    private readonly credentialChanges: CredentialChangeHooks,
    private readonly policyHook: PolicyCredentialHook,
  ) {}

  /** Credentials call rotation through hooks: they may not import it (DESIGN.md §2). */
  onModuleInit(): void {
    this.credentialChanges.register(this.policyHook);
  }
}
