import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { CryptoModule } from '../crypto/crypto.module';
import { HealthController } from './health.controller';
import { AuditSinksHealthIndicator } from './audit-sinks.health';
import { KeyringHealthIndicator } from './keyring.health';

@Module({
  imports: [TerminusModule.forRoot({ errorLogStyle: 'json' }), CryptoModule],
  controllers: [HealthController],
  providers: [KeyringHealthIndicator, AuditSinksHealthIndicator],
})
export class HealthModule {}
