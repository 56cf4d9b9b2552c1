import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { CryptoModule } from '../crypto/crypto.module';
import { MetricsModule } from '../metrics/metrics.module';
import { KeyMetrics } from './key-metrics';
import { KeyRotationService } from './key-rotation.service';
import { KeysController } from './keys.controller';

@Module({
  imports: [CryptoModule, AuditModule, MetricsModule],
  controllers: [KeysController],
  providers: [KeyRotationService, KeyMetrics],
  exports: [KeyRotationService],
})
export class KeysModule {}
