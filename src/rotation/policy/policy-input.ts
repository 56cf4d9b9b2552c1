import type { RotationPolicy, RotationWindow } from '../entities/rotation-policy.entity';
import type { GeneratorSpec } from '../generator/generator-spec';
import type { RotatorSettings } from './effective-policy';

/** A policy as a client sends it (the write DTO's fields), already checked for shape. */
export interface PolicyInput {
  enabled: boolean;
  interval?: string | null;
  schedule?: string | null;
  window?: RotationWindow | null;
  gracePeriod?: string | null;
  offset?: string | null;
  rotator: RotatorSettings;
  generator?: Partial<GeneratorSpec> | null;
  endGraceOnFullAdoption?: boolean;
}

/** A policy as stored: null where the credential type's default applies. */
export interface PolicyFields {
  enabled: boolean;
  rotateEvery: string | null;
  schedule: string | null;
  window: RotationWindow | null;
  gracePeriod: string | null;
  offset: string | null;
  rotator: RotatorSettings;
  generator: GeneratorSpec | null;
  endGraceOnFullAdoption: boolean;
}

/** The fields as the entity's columns (JSON columns are typed as plain JSON there). */
export function policyColumns(
  fields: PolicyFields,
): Omit<
  RotationPolicy,
  'id' | 'credentialId' | 'pathPattern' | 'createdBy' | 'createdAt' | 'updatedAt'
> {
  return {
    ...fields,
    rotator: fields.rotator as RotationPolicy['rotator'],
    generator: fields.generator as RotationPolicy['generator'],
  };
}
