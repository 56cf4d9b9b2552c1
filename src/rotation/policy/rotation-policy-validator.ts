import { Inject, Injectable } from '@nestjs/common';
import { ConfigType } from '@nestjs/config';
import { EntityManager } from 'typeorm';
import { durationSecondsFrom } from '../../common/duration';
import type { CredentialType } from '../../common/credential-types';
import { RequestValidationError } from '../../common/validation/request-validation.error';
import { rotationConfig } from '../../config/rotation.config';
import type { RotationWindow } from '../entities/rotation-policy.entity';
import type { GeneratorSpec } from '../generator/generator-spec';
import { RotatorRegistry } from '../rotators/rotator-registry';
import type { PolicyReviewTarget } from '../rotators/rotator';
import { shortestRotationGapSeconds } from '../schedule/next-rotation';
import type { PolicyFields, PolicyInput } from './policy-input';

/** Whom a policy is for: one credential (its type known) or a path pattern (any type). */
export type PolicyTarget = { type: CredentialType } | { type: null };

/**
 * The checks of a policy that need more than its own fields: the rotator registry (kind,
 * settings, the credential's type), the type defaults (a grace must fit the interval it will get)
 * and the clock (calendar months, cron fires). Throws a 400 naming the field.
 */
@Injectable()
export class RotationPolicyValidator {
  constructor(
    private readonly registry: RotatorRegistry,
    @Inject(rotationConfig.KEY) private readonly config: ConfigType<typeof rotationConfig>,
  ) {}

  check(input: PolicyInput, target: PolicyTarget, now: Date): PolicyFields {
    const { rotator } = this.registry.resolve(input.rotator, target.type);
    const description = rotator.describe();
    if (input.generator && !description.usesGenerator) {
      invalid(
        'generator',
        `the ${rotator.kind} rotator makes no values: leave generator out (only a rotator that generates values, such as generated, takes one)`,
      );
    }
    const fields: PolicyFields = {
      enabled: input.enabled,
      rotateEvery: input.interval ?? null,
      schedule: input.schedule ?? null,
      window: input.window ? windowOf(input.window) : null,
      gracePeriod: input.gracePeriod ?? null,
      offset: input.offset ?? null,
      rotator: { ...input.rotator, kind: rotator.kind },
      generator: input.generator ? generatorOf(input.generator) : null,
      endGraceOnFullAdoption: input.endGraceOnFullAdoption ?? false,
    };
    // A pattern policy may govern any type its rotator can rotate: each type's defaults must fit.
    const types = target.type ? [target.type] : description.types;
    for (const type of types) this.checkGrace(fields, type, target.type === null, now);
    return fields;
  }

  /**
   * The rotator's own review of checked fields, in the policy write's transaction (settings that
   * name another credential, the credential's fields): throws a 400 naming the field, may force
   * the grace (applied to `fields`), and returns warnings for the response.
   */
  async review(
    fields: PolicyFields,
    target: PolicyReviewTarget,
    manager: EntityManager,
  ): Promise<string[]> {
    const { rotator, settings } = this.registry.resolve(
      fields.rotator,
      target.credential?.type ?? null,
    );
    if (!rotator.reviewPolicy) return [];
    const review = await rotator.reviewPolicy(settings, target, manager);
    if (review.gracePeriod !== undefined) fields.gracePeriod = review.gracePeriod;
    return review.warnings;
  }

  private checkGrace(fields: PolicyFields, type: CredentialType, anyType: boolean, now: Date) {
    const defaults = this.config.defaults[type];
    const timing = {
      rotateEvery: fields.schedule ? null : (fields.rotateEvery ?? defaults.interval),
      schedule: fields.schedule,
    };
    const gracePeriod = fields.gracePeriod ?? defaults.gracePeriod;
    const gap = shortestRotationGapSeconds(timing, now);
    if (durationSecondsFrom(now, gracePeriod) <= gap) return;
    const credentials = anyType ? `${type} credentials` : `a ${type} credential`;
    const grace = fields.gracePeriod
      ? `gracePeriod ${gracePeriod}`
      : `the default gracePeriod of ${credentials} (${gracePeriod})`;
    const between = fields.schedule
      ? `the shortest time between two fires of the schedule (${readable(gap)})`
      : fields.rotateEvery
        ? `the interval (${fields.rotateEvery})`
        : `the default interval of ${credentials} (${timing.rotateEvery})`;
    const fix = fields.gracePeriod ? '' : ': give a shorter gracePeriod';
    invalid('gracePeriod', `${grace} is longer than ${between}${fix}`);
  }
}

function invalid(field: string, message: string): never {
  throw new RequestValidationError([{ field, errors: [message] }]);
}

/** Only the fields a window has, without the DTO's class. */
function windowOf(window: RotationWindow): RotationWindow {
  return {
    ...(window.days && window.days.length > 0 ? { days: [...window.days] } : {}),
    start: window.start,
    duration: window.duration,
  };
}

function generatorOf(generator: Partial<GeneratorSpec>): GeneratorSpec {
  const spec: GeneratorSpec = {
    format: generator.format!,
    // The DTO requires a length except for uuid, which is always 36 characters.
    length: generator.length ?? 36,
  };
  if (generator.classes) spec.classes = [...generator.classes];
  if (generator.prefix) spec.prefix = generator.prefix;
  return spec;
}

/** 90000 → "P1DT1H": seconds as an ISO 8601 duration, for messages. */
function readable(seconds: number): string {
  const days = Math.floor(seconds / 86_400);
  const rest = seconds % 86_400;
  const time = [
    [Math.floor(rest / 3600), 'H'],
    [Math.floor((rest % 3600) / 60), 'M'],
    [rest % 60, 'S'],
  ]
    .filter(([n]) => n !== 0)
    .map(([n, unit]) => `${n}${unit}`)
    .join('');
  const text = `P${days > 0 ? `${days}D` : ''}${time ? `T${time}` : ''}`;
  return text === 'P' ? 'PT0S' : text;
}
