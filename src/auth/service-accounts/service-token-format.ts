/**
 * A service token (issued by the Vault AppRole login): `cvt.` followed by a JWT naming the
 * service account and the API key it was derived from. The prefix tells it apart from an API key
 * (`cus_…`) and a person's access token (a bare JWT) before anything is verified.
 */
export const SERVICE_TOKEN_PREFIX = 'cvt.';

export function looksLikeServiceToken(value: string): boolean {
  return value.startsWith(SERVICE_TOKEN_PREFIX);
}

/** The claims of a service token's JWT. */
export interface ServiceTokenClaims {
  /** The service account. */
  sub: string;
  /** The id of the API key the token was derived from. */
  key: string;
  iat: number;
  exp: number;
  jti: string;
}
