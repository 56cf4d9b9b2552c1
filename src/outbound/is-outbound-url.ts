import { ValidateBy, ValidationOptions } from 'class-validator';

export const OUTBOUND_URL_MAX = 2048;

/**
 * An absolute http(s) URL as the WHATWG parser reads it, the same parser the client uses: a host
 * in any spelling it accepts (`2130706433` is 127.0.0.1) passes here and meets the outbound
 * guard's address checks, which say precisely why it is refused.
 */
export function isOutboundUrl(value: unknown): value is string {
  if (typeof value !== 'string' || value.length > OUTBOUND_URL_MAX) return false;
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
  } catch {
    return false;
  }
}

export function IsOutboundUrl(options?: ValidationOptions): PropertyDecorator {
  return ValidateBy(
    {
      name: 'isOutboundUrl',
      validator: {
        validate: (value: unknown) => isOutboundUrl(value),
        defaultMessage: (args) =>
          `${args?.property ?? 'url'} must be an absolute https URL of at most ${OUTBOUND_URL_MAX} characters`,
      },
    },
    options,
  );
}
