import { Module } from '@nestjs/common';
import { DatabaseMetrics } from './database-metrics';
import { HttpMetrics } from './http-metrics';
import { MetricsController } from './metrics.controller';

@Module({
  controllers: [MetricsController],
  providers: [HttpMetrics, DatabaseMetrics],
  exports: [HttpMetrics],
})
export class MetricsModule {}
