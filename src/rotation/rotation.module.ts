import { Module } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { CredentialsModule } from '../credentials/credentials.module';
import { MetricsModule } from '../metrics/metrics.module';
import { RotatorRegistry } from './rotators/rotator-registry';

/** Scheduled, crash-safe rotation of credentials (DESIGN.md §5). */
@Module({
  imports: [CredentialsModule, AuthModule, MetricsModule],
  controllers: [],
  providers: [RotatorRegistry],
  exports: [RotatorRegistry],
})
export class RotationModule {}
