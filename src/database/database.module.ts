import { Global, Module } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { databaseConfig } from '../config/database.config';
import { buildDataSourceOptions } from './data-source-options';
import { DirectSql } from './direct-sql';
import { ensureMariadbDatabase } from './ensure-database';
import { LeaseService } from './lease.service';
import { TransactionRunner } from './transaction-runner';

@Global()
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [databaseConfig.KEY],
      useFactory: async (config: ConfigType<typeof databaseConfig>) => {
        if (config.dialect === 'mariadb') await ensureMariadbDatabase(config.url);
        return {
          ...buildDataSourceOptions(config),
          migrationsRun: config.common.runMigrations,
          retryAttempts: config.common.connectRetries,
          retryDelay: 2000,
        };
      },
    }),
  ],
  providers: [TransactionRunner, LeaseService, DirectSql],
  exports: [TransactionRunner, LeaseService, DirectSql],
})
export class DatabaseModule {}
