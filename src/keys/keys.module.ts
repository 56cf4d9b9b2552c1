import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { CryptoModule } from '../crypto/crypto.module';
import { KeyRotationService } from './key-rotation.service';
import { KeysController } from './keys.controller';

@Module({
  imports: [CryptoModule, AuditModule],
  controllers: [KeysController],
  providers: [KeyRotationService],
  exports: [KeyRotationService],
})
export class KeysModule {}
