import { Module } from '@nestjs/common';
import { KeyRewrapRegistry } from './key-rewrap.registry';
import { KeyringService } from './keyring.service';

@Module({
  providers: [KeyringService, KeyRewrapRegistry],
  exports: [KeyringService, KeyRewrapRegistry],
})
export class CryptoModule {}
