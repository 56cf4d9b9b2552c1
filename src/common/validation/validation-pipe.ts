import { ArgumentMetadata, ValidationPipe } from '@nestjs/common';
import { FieldError } from '../errors/error-body';
import { RequestValidationError } from './request-validation.error';

/**
 * Keys the whitelist never sees, so it cannot refuse them: Nest's pipe deletes `__proto__`,
 * `prototype` and `constructor` before validating, and class-transformer skips any key whose name
 * finds a function on the new instance, i.e. every method of Object.prototype (`toString`,
 * `valueOf`, `hasOwnProperty`, …). Silently dropped, they would also vanish from free-form JSON
 * such as a credential's metadata. They are refused instead, at any depth.
 */
const SHADOWED_KEYS = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);

/** Whitelisting pipe: unknown fields are refused, so nothing can be mass-assigned. */
class WhitelistValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (!this.toValidate(metadata)) return super.transform(value, metadata);
    const shadowed = shadowedKeys(value);
    if (shadowed.length > 0) throw new RequestValidationError(shadowed);
    try {
      return (await super.transform(value, metadata)) as unknown;
    } catch (error) {
      // No body at all: say so first, before the fields it would have held.
      if (metadata.type === 'body' && value == null && error instanceof RequestValidationError) {
        throw new RequestValidationError([
          { field: '(body)', errors: ['a JSON body is required'] },
          ...error.fields,
        ]);
      }
      throw error;
    }
  }
}

/**
 * The app's pipe refuses unknown fields (DESIGN.md §4.7). `drop` removes them instead, for an
 * adapter of someone else's API whose clients expect unknown parameters to be ignored (Vault);
 * the prototype-key refusal and everything else stay the same.
 */
export function createValidationPipe(
  options: { unknownFields: 'refuse' | 'drop' } = { unknownFields: 'refuse' },
): ValidationPipe {
  return new WhitelistValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: options.unknownFields === 'refuse',
    forbidUnknownValues: true,
    transform: true,
    stopAtFirstError: false,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => RequestValidationError.fromValidationErrors(errors),
  });
}

/**
 * Own keys named like a member of Object.prototype, with their paths (`secret.toString`). The
 * walk is iterative; JSON bodies reach it already bounded in depth and size (http/json-body.ts).
 */
export function shadowedKeys(value: unknown): FieldError[] {
  const found: FieldError[] = [];
  if (!isPlainContainer(value)) return found;
  const pending: { node: object; path: string }[] = [{ node: value, path: '' }];
  while (pending.length > 0) {
    const { node, path } = pending.pop()!;
    const children: { node: object; path: string }[] = [];
    for (const key of Object.keys(node)) {
      const field = path ? `${path}.${key}` : key;
      if (SHADOWED_KEYS.has(key))
        found.push({ field, errors: [`property ${key} should not exist`] });
      else {
        const child = (node as Record<string, unknown>)[key];
        if (isPlainContainer(child)) children.push({ node: child, path: field });
      }
    }
    // Reversed onto the stack, so the fields come out in the order of the body.
    for (let i = children.length - 1; i >= 0; i--) pending.push(children[i]);
  }
  return found;
}

/** Arrays and object literals, with or without a prototype (a query string's has none). */
function isPlainContainer(value: unknown): value is object {
  if (value === null || typeof value !== 'object') return false;
  return Array.isArray(value) || Object.prototype.toString.call(value) === '[object Object]';
}
