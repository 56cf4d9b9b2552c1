import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { CredentialsModule } from '../credentials/credentials.module';
import { CryptoModule } from '../crypto/crypto.module';
import { MetricsModule } from '../metrics/metrics.module';
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
import { RotatorRegistry } from './rotators/rotator-registry';

/** Scheduled, crash-safe rotation of credentials (DESIGN.md §5). */
@Module({
  imports: [CredentialsModule, CryptoModule, AuthModule, MetricsModule],
  controllers: [CredentialRotationsController, RotationsController],
  providers: [
    RotatorRegistry,
    RunStore,
    RunEvents,
    RunExecutor,
    DueStarter,
    RotationScheduler,
    RotationRequests,
    EmergencyRotations,
    RotationRunQuery,
    ManualWriteHook,
  ],
  exports: [RotatorRegistry, RotationRequests, RotationScheduler],
})
export class RotationModule {}
