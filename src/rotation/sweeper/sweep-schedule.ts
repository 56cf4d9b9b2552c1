import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { Interval } from '@nestjs/schedule';
import { loggableError } from '../../common/errors/loggable-error';
import { rotationConfig } from '../../config/rotation.config';
import { KeyringService } from '../../crypto/keyring.service';
import { AdoptionWatch } from '../adoption/adoption-watch';
import { ExpiryWatch } from './expiry-watch';
import { GraceSweeper } from './grace-sweeper';
import { PeriodicPass } from './periodic-pass';

/** How often the schedule asks whether a pass is due; the interval itself is configured. */
export const SWEEP_TICK_MS = 1000;

export interface SweepPass {
  revoked: number;
  destroyed: number;
  expiring: number;
  /** Graces ended early because every consumer adopted (revoked by the same pass). */
  graceEnded: number;
  /** Rotations announced as lagging in adoption. */
  adoptionWarned: number;
}

/**
 * Runs the adoption watch, the grace sweep and the expiry watch (a PeriodicPass; instances share
 * the rows, see GraceSweeper). Reveal never relies on the sweep, it checks the grace itself.
 */
@Injectable()
export class SweepSchedule extends PeriodicPass<SweepPass> {
  private readonly logger = new Logger(SweepSchedule.name);

  constructor(
    private readonly sweeper: GraceSweeper,
    private readonly expiry: ExpiryWatch,
    private readonly adoption: AdoptionWatch,
    keyring: KeyringService,
    @Inject(rotationConfig.KEY) config: ConfigType<typeof rotationConfig>,
  ) {
    super(keyring, config);
  }

  @Interval('rotation-sweep', SWEEP_TICK_MS)
  tick(now = Date.now()): Promise<SweepPass> | null {
    return this.due(now);
  }

  /**
   * The jobs, each on its own: one failing does not hold up the others. Never throws. Adoption
   * first: a grace it ends is revoked by the sweep right after.
   */
  protected async pass(): Promise<SweepPass> {
    const adoption = await this.adoption.watch().catch((error: unknown) => {
      this.logger.error({ err: loggableError(error) }, 'Adoption watch failed');
      return { graceEnded: 0, warned: 0 };
    });
    const swept = await this.sweeper.sweep().catch((error: unknown) => {
      this.logger.error({ err: loggableError(error) }, 'Grace sweep failed');
      return { revoked: 0, destroyed: 0 };
    });
    const expiring = await this.expiry.watch().catch((error: unknown) => {
      this.logger.error({ err: loggableError(error) }, 'Expiry watch failed');
      return 0;
    });
    const pass = {
      ...swept,
      expiring,
      graceEnded: adoption.graceEnded,
      adoptionWarned: adoption.warned,
    };
    if (pass.revoked + pass.destroyed + pass.expiring + pass.graceEnded + pass.adoptionWarned > 0)
      this.logger.log({ sweep: pass }, 'Swept');
    return pass;
  }
}
