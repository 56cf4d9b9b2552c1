import type { FastifyRequest } from 'fastify';
import { looksLikeApiKey } from '../service-accounts/api-key-format';
import { looksLikeServiceToken } from '../service-accounts/service-token-format';

/** What a request presents to authenticate with, before anything is checked. */
export type PresentedCredentials =
  | { kind: 'api-key'; value: string }
  | { kind: 'access-token'; token: string }
  | { kind: 'service-token'; token: string }
  | { kind: 'none' };

const BEARER = /^Bearer ([^\s]+)$/i;

/**
 * X-API-Key wins over X-Vault-Token, which wins over Authorization; a `cus_…` bearer is an API
 * key too (services may send their key either way) and a `cvt.…` one a service token (AppRole). One reading shared by both strategies, so they never disagree on who a
 * request is for.
 */
export function presentedCredentials(request: FastifyRequest): PresentedCredentials {
  const apiKey = request.headers['x-api-key'];
  if (typeof apiKey === 'string') return { kind: 'api-key', value: apiKey };
  // Vault clients: any of the three kinds, in Vault's own header.
  const vaultToken = request.headers['x-vault-token'];
  if (typeof vaultToken === 'string' && vaultToken !== '') return classify(vaultToken);
  const header = request.headers.authorization;
  const match = typeof header === 'string' ? BEARER.exec(header) : null;
  if (!match) return { kind: 'none' };
  return classify(match[1]);
}

/** Whether a request carries any credential at all (nothing is checked). */
export function carriesCredentials(request: FastifyRequest): boolean {
  const { authorization, 'x-api-key': apiKey, 'x-vault-token': vaultToken } = request.headers;
  return authorization !== undefined || apiKey !== undefined || vaultToken !== undefined;
}

function classify(token: string): PresentedCredentials {
  if (looksLikeApiKey(token)) return { kind: 'api-key', value: token };
  if (looksLikeServiceToken(token)) return { kind: 'service-token', token };
  return { kind: 'access-token', token };
}
