import { Transform } from 'class-transformer';

/**
 * A query-string integer: only plain digits become a number (Number() would also take "1e2",
 * "0x10" or " 5"); anything else stays a string for the validator to refuse.
 */
export function QueryInteger(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    typeof value === 'string' && /^\d{1,6}$/.test(value) ? Number(value) : value,
  );
}

/** A query-string boolean: exactly "true" or "false"; anything else is left to be refused. */
export function QueryBoolean(): PropertyDecorator {
  return Transform(({ value }: { value: unknown }) =>
    value === 'true' ? true : value === 'false' ? false : value,
  );
}
