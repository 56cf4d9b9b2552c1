import { OnApplicationShutdown } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { rotationConfig } from '../../config/rotation.config';
import { KeyringService } from '../../crypto/keyring.service';

/**
 * A rotation job that runs every ROTATION_SWEEP_INTERVAL on every instance, one pass at a time
 * here. Off with the rotation scheduler (ROTATION_SCHEDULER_ENABLED=false) and while sealed, when
 * no audit event could be written. Subclasses give the pass and call due() from a fixed
 * @Interval: @Interval takes a constant, and a tick costs nothing until a pass is due.
 */
export abstract class PeriodicPass<T> implements OnApplicationShutdown {
  private lastAt = Date.now();
  private running?: Promise<T>;
  private stopping = false;

  protected constructor(
    private readonly keyring: KeyringService,
    private readonly config: ConfigType<typeof rotationConfig>,
  ) {}

  /** The pass, if one is due at `now` and none is running; else null. */
  protected due(now: number): Promise<T> | null {
    if (this.stopping || !this.config.schedulerEnabled || this.running) return null;
    if (now - this.lastAt < this.config.sweepIntervalMs) return null;
    if (this.keyring.isSealed()) return null;
    this.lastAt = now;
    this.running = this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.running;
  }

  /** One pass; never throws (a failing pass is logged and the next one tries again). */
  protected abstract pass(): Promise<T>;
}
