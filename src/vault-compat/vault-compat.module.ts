import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { AuthModule } from '../auth/auth.module';
import { CredentialsModule } from '../credentials/credentials.module';
import { CryptoModule } from '../crypto/crypto.module';
import { VaultAuthController } from './vault-auth.controller';
import { VaultHttp } from './vault-http';
import { VaultKvController } from './vault-kv.controller';
import { VaultKvService } from './vault-kv.service';
import { VaultSysController } from './vault-sys.controller';

/**
 * HashiCorp Vault's HTTP API under /v1 (KV v2, AppRole, token lookup, health), so Vault clients
 * work against Custos unchanged: a thin adapter over credentials, auth and audit (DESIGN.md §2).
 * Nothing imports it but the app module.
 */
@Module({
  imports: [CryptoModule, AuditModule, AuthModule, CredentialsModule],
  // The static routes (sys, auth) before the KV wildcards.
  controllers: [VaultSysController, VaultAuthController, VaultKvController],
  providers: [VaultKvService, VaultHttp],
})
export class VaultCompatModule {}
