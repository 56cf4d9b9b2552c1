import { Module, OnModuleInit } from '@nestjs/common';
import { AuthModule } from '../../auth/auth.module';
import { CredentialsModule } from '../../credentials/credentials.module';
import { RevealObservers } from '../../credentials/reveal-observers';
import { RotationModule } from '../../rotation/rotation.module';
import { IncidentsModule } from '../incidents.module';
import { DecoyWatch } from '../decoys/decoy-watch';
import { LeakContainment } from './leak-containment';
import { LeakScanController } from './leak-scan.controller';
import { LeakScanService } from './leak-scan.service';

/** The leak scan and the decoy watch: detectors that open incidents (issue 12, items 5 and 6). */
@Module({
  imports: [AuthModule, CredentialsModule, RotationModule, IncidentsModule],
  controllers: [LeakScanController],
  providers: [LeakScanService, LeakContainment, DecoyWatch],
})
export class LeakScanModule implements OnModuleInit {
  constructor(
    private readonly reveals: RevealObservers,
    private readonly decoys: DecoyWatch,
  ) {}

  /** Credentials tell incidents of reveals through a hook: they may not import it (DESIGN.md §2). */
  onModuleInit(): void {
    this.reveals.register(this.decoys);
  }
}
