import {
  ArgumentMetadata,
  createParamDecorator,
  ExecutionContext,
  Injectable,
  PipeTransform,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { createValidationPipe } from '../common/validation/validation-pipe';

/** Validates a /v1 body as the app's pipe does, except that unknown fields are dropped. */
@Injectable()
export class VaultBodyPipe implements PipeTransform {
  private readonly validation = createValidationPipe({ unknownFields: 'drop' });

  transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    return this.validation.transform(value, { ...metadata, type: 'body' }) as Promise<unknown>;
  }
}

const requestBody = createParamDecorator(
  (_data: unknown, context: ExecutionContext): unknown =>
    context.switchToHttp().getRequest<FastifyRequest>().body,
);

/**
 * The body of a /v1 route, validated against its DTO. Vault ignores parameters it does not know
 * (a newer client's, or a caller's typo) where the app's own pipe refuses them, so they are
 * dropped here instead: as a custom parameter, which the app's pipe leaves to VaultBodyPipe.
 * Prototype keys are still refused, and the body parser's depth and size limits still apply.
 */
export const VaultBody = (): ParameterDecorator => requestBody(VaultBodyPipe);

/**
 * Vault's warning for the top-level parameters of a body that the route does not know, or none.
 * Vault sorts them and prints them as a Go slice: `[extra other]`.
 */
export function ignoredParametersWarning(
  body: unknown,
  known: readonly string[],
): string | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const ignored = Object.keys(body)
    .filter((key) => !known.includes(key))
    .sort();
  return ignored.length > 0
    ? `Endpoint ignored these unrecognized parameters: [${ignored.join(' ')}]`
    : undefined;
}
