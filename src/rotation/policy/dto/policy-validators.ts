import { ValidateBy, ValidationArguments, ValidationOptions } from 'class-validator';
import { durationSecondsFrom, isIsoDuration } from '../../../common/duration';
import { MIN_ROTATION_INTERVAL_SECONDS } from '../../../config/rotation-defaults';
import { cronProblem } from '../../schedule/cron-schedule';
import { windowDurationProblem } from '../../schedule/rotation-window';
import { generatorClassesProblem } from '../generator-problems';

const DURATION_HELP = 'an ISO 8601 duration such as PT1H, P30D or P1M';

function problemValidator(
  name: string,
  problem: (value: unknown, args?: ValidationArguments) => string | undefined,
  options?: ValidationOptions,
): PropertyDecorator {
  return ValidateBy(
    {
      name,
      validator: {
        validate: (value: unknown, args) => problem(value, args) === undefined,
        defaultMessage: (args) =>
          `${args?.property ?? 'value'} ${problem(args?.value, args) ?? 'is invalid'}`,
      },
    },
    options,
  );
}

/** An ISO 8601 duration of whole units (`PT24H`, `P30D`). */
export function IsPolicyDuration(options?: ValidationOptions): PropertyDecorator {
  return problemValidator(
    'isPolicyDuration',
    (value) => (isIsoDuration(value) ? undefined : `must be ${DURATION_HELP}`),
    options,
  );
}

/** A duration of at least a minute: a shorter interval would rotate faster than the scheduler ticks. */
export function IsRotationInterval(options?: ValidationOptions): PropertyDecorator {
  return problemValidator(
    'isRotationInterval',
    (value) => {
      if (!isIsoDuration(value)) return `must be ${DURATION_HELP}`;
      return durationSecondsFrom(new Date(), value) < MIN_ROTATION_INTERVAL_SECONDS
        ? 'must be at least one minute (PT1M)'
        : undefined;
    },
    options,
  );
}

/** A five-field cron expression, read in UTC, that fires at some time; and no interval beside it. */
export function IsCronSchedule(options?: ValidationOptions): PropertyDecorator {
  return problemValidator(
    'isCronSchedule',
    (value, args) => {
      const other = (args?.object as { interval?: unknown } | undefined)?.interval;
      if (other !== undefined && other !== null) {
        return 'cannot be given with interval: give one of interval and schedule (or neither, for the type default)';
      }
      return cronProblem(value);
    },
    options,
  );
}

export function IsWindowDuration(options?: ValidationOptions): PropertyDecorator {
  return problemValidator('isWindowDuration', (value) => windowDurationProblem(value), options);
}

/** The password format's classes fit: only password has them, and each needs a character. */
export function FitsGeneratorClasses(options?: ValidationOptions): PropertyDecorator {
  return problemValidator(
    'fitsGeneratorClasses',
    (_value, args) => generatorClassesProblem(args?.object),
    options,
  );
}

/** A uuid is always 36 characters: a length beside it would be ignored, so it is refused. */
export function NoLengthForUuid(options?: ValidationOptions): PropertyDecorator {
  return problemValidator(
    'noLengthForUuid',
    (_value, args) =>
      (args?.object as { format?: unknown } | undefined)?.format === 'uuid'
        ? 'must be left out for the uuid format (always 36 characters)'
        : undefined,
    options,
  );
}

const ROTATOR_KIND = /^[a-z][a-z0-9_-]{0,31}$/;
const ROTATOR_MAX_BYTES = 4096;
const ROTATOR_MAX_DEPTH = 4;

function depthOf(value: unknown): number {
  if (value === null || typeof value !== 'object') return 0;
  const children = Object.values(value as Record<string, unknown>);
  return 1 + (children.length ? Math.max(...children.map(depthOf)) : 0);
}

/**
 * `{kind, …settings}`: a JSON object naming a rotator. Whether the kind exists and the settings
 * fit it is the rotator registry's to say; here only its shape and size.
 */
export function IsRotatorSettings(options?: ValidationOptions): PropertyDecorator {
  return problemValidator(
    'isRotatorSettings',
    (value) => {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        return 'must be an object such as {"kind": "generated"}';
      }
      const kind = (value as { kind?: unknown }).kind;
      if (typeof kind !== 'string' || !ROTATOR_KIND.test(kind)) {
        return 'must name its rotator in kind, e.g. {"kind": "generated"}';
      }
      if (
        Buffer.byteLength(JSON.stringify(value)) > ROTATOR_MAX_BYTES ||
        depthOf(value) > ROTATOR_MAX_DEPTH
      ) {
        return `must be at most ${ROTATOR_MAX_BYTES} bytes and ${ROTATOR_MAX_DEPTH} levels of JSON`;
      }
      return undefined;
    },
    options,
  );
}
