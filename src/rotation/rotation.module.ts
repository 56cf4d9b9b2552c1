import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { CredentialsModule } from '../credentials/credentials.module';
import { CryptoModule } from '../crypto/crypto.module';
import { MetricsModule } from '../metrics/metrics.module';
import { RotatorRegistry } from './rotators/rotator-registry';
import { ExpiryWatch } from './sweeper/expiry-watch';
import { GraceSweeper } from './sweeper/grace-sweeper';
import { SweepSchedule } from './sweeper/sweep-schedule';

/** Scheduled, crash-safe rotation of credentials (DESIGN.md §5). */
@Module({
  imports: [CredentialsModule, AuthModule, MetricsModule, CryptoModule],
  controllers: [],
  providers: [RotatorRegistry, GraceSweeper, ExpiryWatch, SweepSchedule],
  exports: [RotatorRegistry],
})
export class RotationModule {}
