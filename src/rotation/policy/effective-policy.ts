import type { GeneratorSpec } from '../generator/generator-spec';
import type { RotationWindow } from '../entities/rotation-policy.entity';

/** The settings a rotator receives: `{kind, …}` validated against the rotator's settings class. */
export type RotatorSettings = { kind: string } & Record<string, unknown>;

/**
 * The policy that applies to one credential: its own, else the most specific path-pattern
 * policy that matches its path. Durations are still ISO 8601 strings, except the grace.
 */
export interface EffectivePolicy {
  policyId: string;
  source: 'credential' | 'pattern';
  pathPattern: string | null;
  enabled: boolean;
  rotateEvery: string | null;
  schedule: string | null;
  window: RotationWindow | null;
  offset: string | null;
  gracePeriod: string;
  graceSeconds: number;
  rotator: RotatorSettings;
  generator: GeneratorSpec | null;
  /** End the old version's grace once every known consumer has revealed the new one. */
  endGraceOnFullAdoption: boolean;
}
