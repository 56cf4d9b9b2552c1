import { ValidateBy, ValidationOptions } from 'class-validator';
import { isTypePattern } from '../events/event-type-filter';

/**
 * The event families a subscription may name: what Custos raises now (rotation.*,
 * credential.*) and the incident events to come. `*` is every event.
 */
export const EVENT_FAMILIES = ['rotation', 'credential', 'incident'] as const;

/** `rotation.*`, `credential.expiring`, `incident.*`, `*`: a type pattern of a known family. */
export function isWebhookEventPattern(value: unknown): value is string {
  if (!isTypePattern(value)) return false;
  return value === '*' || (EVENT_FAMILIES as readonly string[]).includes(value.split('.')[0]);
}

export function IsWebhookEventPattern(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isWebhookEventPattern',
      validator: {
        validate: (value: unknown) => isWebhookEventPattern(value),
        defaultMessage: () =>
          `each event must be "*", an event type such as rotation.succeeded or a family pattern such as rotation.* (families: ${EVENT_FAMILIES.join(', ')})`,
      },
    },
    options,
  );
}
