import type { FastifyRequest } from 'fastify';
import { looksLikeApiKey } from '../service-accounts/api-key-format';

/** What a request presents to authenticate with, before anything is checked. */
export type PresentedCredentials =
  { kind: 'api-key'; value: string } | { kind: 'access-token'; token: string } | { kind: 'none' };

const BEARER = /^Bearer ([^\s]+)$/i;

/**
 * X-API-Key wins over Authorization, and a `cus_…` bearer is an API key too (services may send
 * their key either way). One reading shared by both strategies, so they never disagree on who a
 * request is for.
 */
export function presentedCredentials(request: FastifyRequest): PresentedCredentials {
  const apiKey = request.headers['x-api-key'];
  if (typeof apiKey === 'string') return { kind: 'api-key', value: apiKey };
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? BEARER.exec(header) : null;
  if (!match) return { kind: 'none' };
  return looksLikeApiKey(match[1])
    ? { kind: 'api-key', value: match[1] }
    : { kind: 'access-token', token: match[1] };
}
