import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { CryptoModule } from '../crypto/crypto.module';
import { RotationModule } from '../rotation/rotation.module';
import { HealthController } from './health.controller';
import { AuditSinksHealthIndicator } from './audit-sinks.health';
import { KeyringHealthIndicator } from './keyring.health';
import { RotationHealthIndicator } from './rotation.health';

@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' }), CryptoModule, RotationModule],
  controllers: [HealthController],
  providers: [KeyringHealthIndicator, AuditSinksHealthIndicator, RotationHealthIndicator],
})
export class HealthModule {}
