import {
  applyDecorators,
  ExecutionContext,
  Injectable,
  SetMetadata,
  UseGuards,
} from '@nestjs/common';
import type { ThrottlerOptions, ThrottlerRequest } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import { RetryAfterThrottlerGuard } from './throttler-guard';

export const REVEAL_THROTTLER = 'reveal';
const REVEAL_THROTTLED = 'custos:reveal-throttled';

function principalKey(request: FastifyRequest): string | undefined {
  const principal = request.principal;
  return principal ? `${principal.type}:${principal.id}` : undefined;
}

/**
 * The `reveal` throttler: REVEAL_RATE_LIMIT reveals a minute per principal, over every reveal
 * route together (OWASP API4/API6: a stolen token must not drain the vault at line rate).
 * The global guard runs before authentication and so always skips it (no principal yet); the
 * guard that RevealThrottled() puts on the route, after authentication, counts it.
 */
export function revealThrottler(limit: number): ThrottlerOptions {
  return {
    name: REVEAL_THROTTLER,
    ttl: 60_000,
    limit,
    skipIf: (context: ExecutionContext) =>
      !Reflect.getMetadata(REVEAL_THROTTLED, context.getHandler()) ||
      !principalKey(context.switchToHttp().getRequest<FastifyRequest>()),
    getTracker: (request: Record<string, unknown>) =>
      principalKey(request as unknown as FastifyRequest) ?? '',
    // One budget per principal for all reveal routes, not one per route.
    generateKey: (_context: ExecutionContext, tracker: string) => `reveal:${tracker}`,
  };
}

/** Counts only the `reveal` throttler (the global guard already counted the others). */
@Injectable()
export class RevealThrottlerGuard extends RetryAfterThrottlerGuard {
  protected override handleRequest(request: ThrottlerRequest): Promise<boolean> {
    if (request.throttler.name !== REVEAL_THROTTLER) return Promise.resolve(true);
    return super.handleRequest(request);
  }
}

/** A route that hands out plaintext: counted against its principal's reveal budget. */
export const RevealThrottled = (): MethodDecorator =>
  applyDecorators(SetMetadata(REVEAL_THROTTLED, true), UseGuards(RevealThrottlerGuard));
