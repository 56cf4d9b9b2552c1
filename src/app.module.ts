import { Module } from '@nestjs/common';
import { ConfigModule, ConfigType } from '@nestjs/config';
import { APP_FILTER, APP_GUARD, APP_PIPE } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { ThrottlerModule } from '@nestjs/throttler';
import { LoggerModule } from 'nestjs-pino';
import { AllExceptionsFilter } from './common/errors/all-exceptions.filter';
import { revealThrottler } from './common/http/reveal-throttle';
import { RetryAfterThrottlerGuard } from './common/http/throttler-guard';
import { WindowThrottlerStorage } from './common/http/window-throttler-storage';
import { createValidationPipe } from './common/validation/validation-pipe';
import { AuditModule } from './audit/audit.module';
import { adoptionConfig } from './config/adoption.config';
import { appConfig } from './config/app.config';
import { auditConfig } from './config/audit.config';
import { authConfig } from './config/auth.config';
import { credentialsConfig } from './config/credentials.config';
import { leakScanConfig } from './config/leak-scan.config';
import { AuthModule } from './auth/auth.module';
import { LOGIN_THROTTLED } from './common/auth/auth.decorators';
import { AuthGuard } from './auth/guards/auth.guard';
import { cryptoConfig } from './config/crypto.config';
import { databaseConfig } from './config/database.config';
import { outboundConfig } from './config/outbound.config';
import { eventsConfig } from './config/events.config';
import { webhooksConfig } from './config/webhooks.config';
import { vaultCompatConfig } from './config/vault-compat.config';
import { rotationConfig } from './config/rotation.config';
import { CredentialsModule } from './credentials/credentials.module';
import { CryptoModule } from './crypto/crypto.module';
import { DatabaseModule } from './database/database.module';
import { EventsModule } from './events/events.module';
import { EventStreamModule } from './events/stream/event-stream.module';
import { HealthModule } from './health/health.module';
import { IncidentsModule } from './incidents/incidents.module';
import { IncidentBlastRadiusModule } from './incidents/blast-radius/blast-radius.module';
import { IncidentDetectorsModule } from './incidents/detectors/detectors.module';
import { LeakScanModule } from './incidents/leak-scan/leak-scan.module';
import { KeysModule } from './keys/keys.module';
import { loggerOptions } from './logging/logger-options';
import { MetricsModule } from './metrics/metrics.module';
import { RotationModule } from './rotation/rotation.module';
import { WebhooksModule } from './webhooks/webhooks.module';
import { VaultCompatModule } from './vault-compat/vault-compat.module';

@Module({
  imports: [
    ConfigModule.forRoot({
      isGlobal: true,
      ignoreEnvFile: true,
      cache: true,
      load: [
        appConfig,
        databaseConfig,
        cryptoConfig,
        auditConfig,
        authConfig,
        credentialsConfig,
        rotationConfig,
        outboundConfig,
        eventsConfig,
        webhooksConfig,
        adoptionConfig,
        leakScanConfig,
        vaultCompatConfig,
      ],
    }),
    LoggerModule.forRootAsync({
      inject: [appConfig.KEY],
      useFactory: (app: ConfigType<typeof appConfig>) => loggerOptions(app),
    }),
    ThrottlerModule.forRootAsync({
      inject: [appConfig.KEY, authConfig.KEY],
      useFactory: (app: ConfigType<typeof appConfig>, auth: ConfigType<typeof authConfig>) => ({
        // O(1) per request, per instance; the built-in store scans a client's hits every time.
        storage: new WindowThrottlerStorage(),
        throttlers: [
          { name: 'default', ttl: app.throttle.ttlMs, limit: app.throttle.limit },
          // Per client IP on login and refresh, on top of the per-account lockout.
          {
            name: 'login',
            ttl: 60_000,
            limit: auth.loginThrottleLimit,
            skipIf: (context) => !Reflect.getMetadata(LOGIN_THROTTLED, context.getHandler()),
          },
          revealThrottler(app.revealRateLimit),
        ],
      }),
    }),
    // Periodic work (rotation, sweeps, audit checkpoints) runs on its schedule and stops before shutdown.
    ScheduleModule.forRoot(),
    DatabaseModule,
    CryptoModule,
    AuditModule,
    EventsModule,
    AuthModule,
    CredentialsModule,
    RotationModule,
    IncidentsModule,
    IncidentBlastRadiusModule,
    IncidentDetectorsModule,
    LeakScanModule,
    WebhooksModule,
    EventStreamModule,
    KeysModule,
    VaultCompatModule,
    HealthModule,
    MetricsModule,
  ],
  providers: [
    { provide: APP_PIPE, useFactory: createValidationPipe },
    { provide: APP_FILTER, useClass: AllExceptionsFilter },
    // In this order: a flood is refused before any token is checked.
    { provide: APP_GUARD, useClass: RetryAfterThrottlerGuard },
    { provide: APP_GUARD, useExisting: AuthGuard },
  ],
})
export class AppModule {}
