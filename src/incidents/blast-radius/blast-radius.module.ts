import { Module } from '@nestjs/common';
import { AuthModule } from '../../auth/auth.module';
import { IncidentsModule } from '../incidents.module';
import { BlastRadiusService } from './blast-radius.service';
import { IncidentBlastRadiusController } from './incident-blast-radius.controller';
import { IncidentExportService } from './incident-export.service';

/** The blast radius and export routes of incidents: reads of the audit log, grants and links. */
@Module({
  imports: [AuthModule, IncidentsModule],
  controllers: [IncidentBlastRadiusController],
  providers: [BlastRadiusService, IncidentExportService],
})
export class IncidentBlastRadiusModule {}
