import { Module, OnModuleInit } from '@nestjs/common';
import { AuthModule } from '../auth/auth.module';
import { CredentialsModule } from '../credentials/credentials.module';
import { RevealGuardHooks } from '../credentials/reveal-guard-hooks';
import { RotationModule } from '../rotation/rotation.module';
import { IncidentContainment } from './containment/incident-containment';
import { IncidentRevealFreeze } from './freeze/incident-reveal-freeze';
import { IncidentsController } from './http/incidents.controller';
import { IncidentLinks } from './incident-links';
import { IncidentRecorder } from './incident-recorder';
import { IncidentTimeline } from './incident-timeline';
import { IncidentsService } from './incidents.service';
import { TimelineReader } from './timeline-reader';

/**
 * Security incidents (issue 12): above rotation (containment rotates credentials) and auth
 * (containment suspends principals); nothing imports it but the app module. Detectors use
 * IncidentRecorder.openOrAdd.
 */
@Module({
  imports: [AuthModule, CredentialsModule, RotationModule],
  controllers: [IncidentsController],
  providers: [
    IncidentTimeline,
    IncidentLinks,
    IncidentRecorder,
    IncidentsService,
    IncidentContainment,
    IncidentRevealFreeze,
    TimelineReader,
  ],
  exports: [IncidentRecorder, TimelineReader],
})
export class IncidentsModule implements OnModuleInit {
  constructor(
    private readonly revealGuards: RevealGuardHooks,
    private readonly freeze: IncidentRevealFreeze,
  ) {}

  /** Credentials ask incidents through a hook: they may not import it (DESIGN.md §2). */
  onModuleInit(): void {
    this.revealGuards.register(this.freeze);
  }
}
