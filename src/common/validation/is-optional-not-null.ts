import { ValidateIf } from 'class-validator';

/**
 * May be left out, but null is not "left out": it is validated like any other value and refused by
 * the field's own check. For fields that cannot be cleared (required columns, enums), where
 * class-validator's IsOptional would let null through to the database.
 */
export function IsOptionalNotNull(): PropertyDecorator {
  return ValidateIf((_object: unknown, value: unknown) => value !== undefined);
}
