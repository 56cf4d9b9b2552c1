import { Module } from '@nestjs/common';
import { IncidentLinks } from './incident-links';
import { IncidentRecorder } from './incident-recorder';
import { IncidentTimeline } from './incident-timeline';

/**
 * Security incidents (issue 12): above rotation (containment rotates credentials) and auth
 * (containment suspends principals); nothing imports it but the app module. Detectors elsewhere
 * in incidents use IncidentRecorder.openOrAdd.
 */
@Module({
  providers: [IncidentTimeline, IncidentLinks, IncidentRecorder],
  exports: [IncidentRecorder],
})
export class IncidentsModule {}
