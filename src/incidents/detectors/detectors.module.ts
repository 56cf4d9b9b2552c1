import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AuthModule } from '../../auth/auth.module';
import { detectorsConfig } from '../../config/detectors.config';
import { CryptoModule } from '../../crypto/crypto.module';
import { IncidentsModule } from '../incidents.module';
import { DetectorCursorStore } from './detector-cursor.store';
import { DetectorEventsQuery } from './detector-events.query';
import { DetectorRunner } from './detector-runner';

/** The scheduled detectors that open incidents from the audit log. */
@Module({
  imports: [ConfigModule.forFeature(detectorsConfig), AuthModule, CryptoModule, IncidentsModule],
  providers: [DetectorCursorStore, DetectorEventsQuery, DetectorRunner],
  exports: [DetectorRunner],
})
export class IncidentDetectorsModule {}
