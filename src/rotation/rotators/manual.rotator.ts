import { CREDENTIAL_TYPES } from '../../credentials/secrets/credential-type';
import type { Rotator, RotatorDescription, SecretValue } from './rotator';

/** No settings: how long a person has is `ROTATION_MANUAL_OVERDUE_AFTER`. */
export class ManualSettings {}

/**
 * A person changes the secret where it lives and writes the new value with `PUT …/secret`; the
 * run waits for that write (`rotation.due` tells the owner) and finishes with it.
 */
export class ManualRotator implements Rotator<ManualSettings> {
  readonly kind = 'manual';
  readonly settingsClass = ManualSettings;

  describe(): RotatorDescription {
    return {
      kind: this.kind,
      summary: 'Raises rotation.due; the run finishes when a person writes the new value',
      types: CREDENTIAL_TYPES,
      usesGenerator: false,
      settings: {},
    };
  }

  create(): Promise<SecretValue | null> {
    return Promise.resolve(null);
  }

  apply(): Promise<void> {
    return Promise.resolve();
  }

  test(): Promise<void> {
    return Promise.resolve();
  }

  finish(): Promise<void> {
    return Promise.resolve();
  }
}
