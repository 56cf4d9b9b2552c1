import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { CredentialsModule } from '../credentials/credentials.module';
import { CryptoModule } from '../crypto/crypto.module';
import { MetricsModule } from '../metrics/metrics.module';
import { RotationScheduleController } from './http/rotation-schedule.controller';
import { RotationMetrics } from './rotation-metrics';
import { RotatorRegistry } from './rotators/rotator-registry';
import { RotationScheduleQuery } from './schedule/rotation-schedule.query';
import { ExpiryWatch } from './sweeper/expiry-watch';
import { GraceSweeper } from './sweeper/grace-sweeper';
import { SweepSchedule } from './sweeper/sweep-schedule';

/** Scheduled, crash-safe rotation of credentials (DESIGN.md §5). */
@Module({
  imports: [CredentialsModule, AuthModule, MetricsModule, CryptoModule],
  controllers: [RotationScheduleController],
  providers: [
    RotatorRegistry,
    RotationMetrics,
    RotationScheduleQuery,
    GraceSweeper,
    ExpiryWatch,
    SweepSchedule,
  ],
  exports: [RotatorRegistry, RotationMetrics, RotationScheduleQuery],
})
export class RotationModule {}
