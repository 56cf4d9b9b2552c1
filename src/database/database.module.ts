import { Global, Module } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { databaseConfig } from '../config/database.config';
import { buildDataSourceOptions } from './data-source-options';
import { DirectSql } from './direct-sql';
import { ensureMariadbDatabase } from './ensure-database';
import { runMigrationsExclusively } from './exclusive-migrations';
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
      // Migrations run here rather than in TypeORM's initialize(), so that instances starting at
      // once take turns (see runMigrationsExclusively).
      dataSourceFactory: async (options) => {
        const { migrationsRun, ...rest } = options!;
        const dataSource = await new DataSource({ ...rest, migrationsRun: false }).initialize();
        try {
          if (migrationsRun) await runMigrationsExclusively(dataSource);
          return dataSource;
        } catch (error) {
          await dataSource.destroy().catch(() => undefined);
          throw error;
        }
      },
    }),
  ],
  providers: [TransactionRunner, LeaseService, DirectSql],
  exports: [TransactionRunner, LeaseService, DirectSql],
})
export class DatabaseModule {}
