import { Module, OnModuleInit } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { CredentialChangeHooks } from '../credentials/credential-change-hooks';
import { CredentialsModule } from '../credentials/credentials.module';
import { MetricsModule } from '../metrics/metrics.module';
import { CredentialRotationPolicyController } from './http/credential-rotation-policy.controller';
import { RotationPoliciesController } from './http/rotation-policies.controller';
import { CredentialPolicyService } from './policy/credential-policy.service';
import { PatternPolicyService } from './policy/pattern-policy.service';
import { PatternRescheduler } from './policy/pattern-rescheduler';
import { PolicyCredentialHook } from './policy/policy-credential-hook';
import { RotationPolicyService } from './policy/rotation-policy.service';
import { RotationPolicyValidator } from './policy/rotation-policy-validator';
import { RotatorRegistry } from './rotators/rotator-registry';

const POLICY_PROVIDERS = [
  RotationPolicyService,
  RotationPolicyValidator,
  CredentialPolicyService,
  PatternPolicyService,
  PatternRescheduler,
  PolicyCredentialHook,
];

/** Scheduled, crash-safe rotation of credentials (DESIGN.md §5). */
@Module({
  imports: [CredentialsModule, AuthModule, MetricsModule],
  controllers: [CredentialRotationPolicyController, RotationPoliciesController],
  providers: [RotatorRegistry, ...POLICY_PROVIDERS],
  exports: [RotatorRegistry, RotationPolicyService],
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
