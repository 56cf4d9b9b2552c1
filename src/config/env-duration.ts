import { ValidateBy } from 'class-validator';
import { durationSeconds, isIsoDuration } from '../common/duration';

/** An ISO 8601 duration from `min` to `max` seconds; the message shows `example`. */
export function IsDurationBetween(min: number, max: number, example: string): PropertyDecorator {
  const fits = (value: unknown) =>
    isIsoDuration(value) && durationSeconds(value) >= min && durationSeconds(value) <= max;
  return ValidateBy({
    name: 'isDurationBetween',
    validator: {
      validate: fits,
      defaultMessage: () =>
        `must be an ISO 8601 duration from ${min} to ${max} seconds, e.g. ${example}`,
    },
  });
}
