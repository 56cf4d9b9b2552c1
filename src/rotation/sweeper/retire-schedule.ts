import { Inject, Injectable, Logger } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { Interval } from '@nestjs/schedule';
import { loggableError } from '../../common/errors/loggable-error';
import { rotationConfig } from '../../config/rotation.config';
import { KeyringService } from '../../crypto/keyring.service';
import { PeriodicPass } from './periodic-pass';
import { SWEEP_TICK_MS } from './sweep-schedule';
import { RetirePass, VersionRetirer } from './version-retirer';

/**
 * Runs the version retirer every ROTATION_SWEEP_INTERVAL on every instance (they share the rows
 * through claims, see VersionRetirer), one pass at a time here and apart from the grace sweep: a
 * slow target server must not hold up revoking and expiry warnings. Off with the rotation
 * scheduler and while sealed (no admin login could be read, no audit event written).
 */
@Injectable()
export class RetireSchedule extends PeriodicPass<RetirePass> {
  private readonly logger = new Logger(RetireSchedule.name);

  constructor(
    private readonly retirer: VersionRetirer,
    keyring: KeyringService,
    @Inject(rotationConfig.KEY) config: ConfigType<typeof rotationConfig>,
  ) {
    super(keyring, config);
  }

  @Interval('rotation-retire', SWEEP_TICK_MS)
  tick(now = Date.now()): Promise<RetirePass> | null {
    return this.due(now);
  }

  /** Never throws: a failing pass is logged and the next one tries again. */
  protected async pass(): Promise<RetirePass> {
    try {
      const pass = await this.retirer.retireDue();
      if (pass.retired + pass.failed > 0) this.logger.log({ retire: pass }, 'Retired accounts');
      return pass;
    } catch (error) {
      this.logger.error({ err: loggableError(error) }, 'Retiring accounts failed');
      return { retired: 0, failed: 0 };
    }
  }
}
