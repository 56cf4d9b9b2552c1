import type { EntityManager } from 'typeorm';
import type { Principal } from '../../common/auth/principal';
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

/**
 * What `retire` is given: a version that has left service (revoked: its grace ended, or at once
 * in an emergency) and the account in the target system it belonged to, as recorded by the
 * rotator's finish hook in the version's `account` column.
 */
export interface RetireContext<S extends object = object> {
  credential: Readonly<Credential>;
  version: number;
  account: string;
  /** The rotator's settings from the policy that applies to the credential now. */
  settings: S;
}

/** Whom a policy being written is for: one credential, or a path pattern (credential null). */
export interface PolicyReviewTarget {
  credential: Readonly<Credential> | null;
  /** Who writes the policy: settings that name another credential must be theirs to use. */
  principal: Principal;
}

/** What a rotator says about a policy being written (see Rotator.reviewPolicy). */
export interface PolicyReview {
  /** Shown in the PUT response: what the server changed or the caller should know. */
  warnings: string[];
  /** The grace the policy gets whatever it asked for (`PT0S` when the old value dies at apply). */
  gracePeriod?: string;
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
  /**
   * Takes a version's account out of service in the target system (locks it, say) once the
   * version has left service. Only versions whose `account` the rotator recorded are retired;
   * the version retirer calls it at least once per such version, possibly again after a crash or
   * a failure, so it must be idempotent. It is never called for the account the credential
   * currently uses, nor while a run of the credential is open.
   */
  retire?(context: RetireContext<S>): Promise<void>;
  /**
   * Checks of a policy's settings that need more than their shape (another credential they name,
   * the credential's own fields), when the policy is written: throws RequestValidationError
   * naming the field. Runs in the policy write's transaction.
   */
  reviewPolicy?(
    settings: S,
    target: PolicyReviewTarget,
    manager: EntityManager,
  ): Promise<PolicyReview>;
}

/** Thrown by a hook when retrying cannot help (bad settings): the run fails without retries. */
export class PermanentRotationError extends Error {}
