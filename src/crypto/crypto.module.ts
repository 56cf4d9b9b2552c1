import { Module } from '@nestjs/common';
import { KeyringService } from './keyring.service';

@Module({
  providers: [KeyringService],
  exports: [KeyringService],
})
export class CryptoModule {}
