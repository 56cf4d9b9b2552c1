import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { KeyringService } from '../crypto/keyring.service';

@Injectable()
export class KeyringHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly keyring: KeyringService,
  ) {}

  check(key: string) {
    const status = this.keyring.sealStatus();
    const indicator = this.indicators.check(key);
    return status.sealed
      ? indicator.down({ sealed: true, message: `Custos is sealed: ${status.reason}` })
      : indicator.up({ sealed: false, keyId: status.keyId });
  }
}
