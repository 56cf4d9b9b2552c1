import { CredentialType } from '../../credentials/secrets/credential-type';
import { generateSecret } from '../generator/generate-secret';
import { DEFAULT_GENERATOR, GENERATED_FIELD } from '../generator/generator-defaults';
import type { RotationContext, Rotator, RotatorDescription, SecretValue } from './rotator';

/** No settings: the policy's `generator` says how values are made. */
export class GeneratedSettings {}

/** The types the policy's generator can make a value for. */
export const GENERATED_TYPES: readonly CredentialType[] = ['password', 'api_key', 'shared_secret'];

/**
 * A fresh value from the policy's generator spec (the type's default without one), in the secret
 * field of the credential's type; every rotator that makes its own values uses this.
 */
export function generatedValue(context: RotationContext): SecretValue {
  const type = context.credential.type;
  const spec = context.generator ?? DEFAULT_GENERATOR[type];
  return { [GENERATED_FIELD[type]]: generateSecret(spec) };
}

/**
 * A new random value from the policy's generator spec, for secrets that live only in Custos
 * (API keys it hands out, shared secrets both sides read from it). There is no target system:
 * apply has nothing to push, and test checks the value is the one just made and well formed.
 */
export class GeneratedRotator implements Rotator<GeneratedSettings> {
  readonly kind = 'generated';
  readonly settingsClass = GeneratedSettings;

  describe(): RotatorDescription {
    return {
      kind: this.kind,
      summary: "A fresh random value from the policy's generator spec",
      types: GENERATED_TYPES,
      usesGenerator: true,
      settings: {},
    };
  }

  create(context: RotationContext<GeneratedSettings>): Promise<SecretValue> {
    return Promise.resolve(generatedValue(context));
  }

  apply(): Promise<void> {
    return Promise.resolve();
  }

  async test(context: RotationContext<GeneratedSettings>): Promise<void> {
    const value = (await context.pendingValue())[GENERATED_FIELD[context.credential.type]];
    if (typeof value !== 'string' || value.length === 0) {
      throw new Error('the pending version holds no generated value');
    }
    const current = (await context.currentValue())[GENERATED_FIELD[context.credential.type]];
    if (value === current) throw new Error('the generated value equals the current one');
  }

  finish(): Promise<void> {
    return Promise.resolve();
  }
}
