import { Inject, Injectable, Optional } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { RequestValidationError } from '../../common/validation/request-validation.error';
import type { FieldError } from '../../common/errors/error-body';
import type { CredentialType } from '../../credentials/secrets/credential-type';
import type { RotatorSettings } from '../policy/effective-policy';
import { GeneratedRotator } from './generated.rotator';
import { ManualRotator } from './manual.rotator';
import { PermanentRotationError, Rotator, RotatorDescription } from './rotator';

/** The rotators that need nothing but their settings. */
const BUILT_IN: readonly Rotator[] = [new GeneratedRotator(), new ManualRotator()];

/**
 * The rotators that reach other systems: providers, because they need the outbound client and
 * stored credentials. rotation.module.ts lists them; with BUILT_IN, every rotator Custos has.
 */
export const CONNECTED_ROTATORS = Symbol('CONNECTED_ROTATORS');

export interface RotatorChoice {
  rotator: Rotator;
  /** The settings beside `kind`, as an instance of the rotator's settings class. */
  settings: object;
}

/**
 * Every rotator Custos has: the one place a new one is registered. Rotators that talk to a
 * target system through other services (the mariadb one reads its admin login) are Nest
 * providers, handed in here; unit tests build the registry without them.
 */
@Injectable()
export class RotatorRegistry {
  private readonly byKind: Map<string, Rotator>;

  constructor(@Optional() @Inject(CONNECTED_ROTATORS) connected: readonly Rotator[] | null = null) {
    this.byKind = new Map([...BUILT_IN, ...(connected ?? [])].map((r) => [r.kind, r]));
  }

  kinds(): string[] {
    return [...this.byKind.keys()];
  }

  describe(): RotatorDescription[] {
    return [...this.byKind.values()].map((r) => r.describe());
  }

  /** The rotator of a run; a kind no longer known fails the run for good. */
  get(kind: string): Rotator {
    const rotator = this.byKind.get(kind);
    if (!rotator) throw new PermanentRotationError(`no rotator of kind ${kind}`);
    return rotator;
  }

  /** The rotator of a kind, if there is one (a job that handles a missing one itself). */
  find(kind: string | undefined): Rotator | undefined {
    return kind === undefined ? undefined : this.byKind.get(kind);
  }

  /**
   * Whether a rotator of this kind exists and can rotate this type, without throwing: a path-pattern
   * policy simply does not apply to a credential its rotator cannot rotate.
   */
  supports(kind: string, type: CredentialType): boolean {
    return this.byKind.get(kind)?.describe().types.includes(type) ?? false;
  }

  /** Adds a rotator (tests use it for failing and slow ones). */
  register(rotator: Rotator): void {
    this.byKind.set(rotator.kind, rotator);
  }

  /**
   * The rotator a policy names, with its settings checked: an unknown kind, a credential type
   * the rotator cannot rotate, or settings that do not fit give a 400 naming the field.
   */
  resolve(
    settings: RotatorSettings,
    type: CredentialType | null,
    field = 'rotator',
  ): RotatorChoice {
    const rotator = this.byKind.get(settings.kind);
    if (!rotator) {
      throw new RequestValidationError([
        { field: `${field}.kind`, errors: [`must be one of: ${this.kinds().join(', ')}`] },
      ]);
    }
    if (type && !rotator.describe().types.includes(type)) {
      throw new RequestValidationError([
        {
          field: `${field}.kind`,
          errors: [`the ${rotator.kind} rotator cannot rotate a ${type} credential`],
        },
      ]);
    }
    const rest: Record<string, unknown> = { ...settings };
    delete rest.kind;
    const instance = plainToInstance(rotator.settingsClass, rest);
    const errors = validateSync(instance, {
      whitelist: true,
      forbidNonWhitelisted: true,
      // Settings classes without fields (generated, manual) have no metadata at all.
      forbidUnknownValues: false,
      validationError: { target: false, value: false },
    });
    if (errors.length > 0) {
      const fields: FieldError[] = RequestValidationError.fromValidationErrors(errors).fields.map(
        (f) => ({ ...f, field: `${field}.${f.field}` }),
      );
      throw new RequestValidationError(fields);
    }
    return { rotator, settings: instance };
  }
}
