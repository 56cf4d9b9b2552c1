import type { EntityManager } from 'typeorm';
import type { Credential } from '../../credentials/entities/credential.entity';
import type { CredentialType } from '../../credentials/secrets/credential-type';
import type { RotationRun } from '../entities/rotation-run.entity';
import type { GeneratorSpec } from '../generator/generator-spec';

export type SecretValue = Record<string, unknown>;

/** What every hook of a rotator is given. Never log or audit the values it can read. */
export interface RotationContext<S extends object = object> {
  credential: Readonly<Credential>;
  run: Readonly<
    Pick<
      RotationRun,
      'id' | 'attempt' | 'trigger' | 'emergency' | 'graceSeconds' | 'pendingVersion'
    >
  >;
  /** The rotator's settings from the policy, validated by its settings class. */
  settings: S;
  generator: GeneratorSpec | null;
  /** The value now current (the one being replaced). */
  currentValue(): Promise<SecretValue>;
  /** The pending value the run created (apply, test and finish only). */
  pendingValue(): Promise<SecretValue>;
}

/** For the OpenAPI document and `GET /rotations/rotators`. */
export interface RotatorDescription {
  kind: string;
  summary: string;
  types: readonly CredentialType[];
  /** Whether it makes values from the policy's `generator` spec (a policy may give one only then). */
  usesGenerator: boolean;
  /** Settings beside `kind`, by name: a short description each. */
  settings: Record<string, string>;
}

/**
 * One way of rotating a credential, in AWS Secrets Manager's four steps. Every hook must be safe
 * to run again after a crash (the engine persists the step only once a hook has returned), and
 * must not leak values into errors: the engine stores error messages on the run.
 */
export interface Rotator<S extends object = object> {
  readonly kind: string;
  /** class-validator class for the settings beside `kind` (whitelisted, unknown keys refused). */
  readonly settingsClass: new () => S;
  describe(): RotatorDescription;
  /**
   * A fresh value for the pending version (each attempt calls it again), or `null` when a
   * person supplies the value (`manual`): the run then waits for `PUT …/secret`.
   */
  create(context: RotationContext<S>): Promise<SecretValue | null>;
  /** Puts the pending value into the target system. */
  apply(context: RotationContext<S>): Promise<void>;
  /** Proves the pending value works; throws if it does not. */
  test(context: RotationContext<S>): Promise<void>;
  /**
   * Inside the finish transaction, just before the switch: last changes to the credential row
   * (for example the user a value belongs to).
   */
  finish(context: RotationContext<S>, manager: EntityManager): Promise<void>;
}

/** Thrown by a hook when retrying cannot help (bad settings): the run fails without retries. */
export class PermanentRotationError extends Error {}
