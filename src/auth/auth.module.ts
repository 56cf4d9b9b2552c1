import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { CryptoModule } from '../crypto/crypto.module';
import { AdminBootstrap } from './bootstrap/admin-bootstrap';
import { AccessPolicy } from './grants/access-policy';
import { GRANTS_CONTROLLERS, GRANTS_PROVIDERS } from './grants/grants.providers';
import { AuthGuard } from './guards/auth.guard';
import { PrincipalSuspension } from './principal-suspension';
import { PasswordHasher } from './passwords/password-hasher';
import { AuthController } from './sessions/auth.controller';
import { SessionService } from './sessions/session.service';
import { TokenService } from './sessions/token.service';
import { ApiKeyAuthenticator } from './service-accounts/api-key-authenticator';
import { ServiceTokens } from './service-accounts/service-tokens';
import { ApiKeyStrategy } from './strategies/api-key.strategy';
import { JwtStrategy } from './strategies/jwt.strategy';
import { ServiceAccountsController } from './service-accounts/service-accounts.controller';
import { ServiceAccountsService } from './service-accounts/service-accounts.service';
import { TotpController } from './totp/totp.controller';
import { TotpRewrapParticipant } from './totp/totp-rewrap.participant';
import { TotpService } from './totp/totp.service';
import { UsersController } from './users/users.controller';
import { UsersService } from './users/users.service';

@Module({
  // Secrets are passed per call (configured or derived from the master key), never registered here.
  imports: [JwtModule.register({}), CryptoModule],
  controllers: [
    AuthController,
    UsersController,
    ServiceAccountsController,
    TotpController,
    ...GRANTS_CONTROLLERS,
  ],
  providers: [
    PasswordHasher,
    TokenService,
    SessionService,
    UsersService,
    AdminBootstrap,
    ApiKeyAuthenticator,
    // Registered with passport when created, before the guard that names them.
    ApiKeyStrategy,
    JwtStrategy,
    AuthGuard,
    ServiceAccountsService,
    TotpService,
    TotpRewrapParticipant,
    PrincipalSuspension,
    ServiceTokens,
    ...GRANTS_PROVIDERS,
  ],
  exports: [
    AuthGuard,
    TokenService,
    UsersService,
    AccessPolicy,
    PrincipalSuspension,
    ServiceTokens,
  ],
})
export class AuthModule {}
