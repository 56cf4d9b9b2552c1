import { parseCertificateSecret } from './certificate-secret';
import { parseConnectionStringSecret } from './connection-string-secret';
import { CREDENTIAL_TYPES, CredentialType, isCredentialType } from './credential-type';
import { parseJwtSecret } from './jwt-secret';
import { parseKvSecret } from './kv-secret';
import { parseOauthSecret } from './oauth-secret';
import { ParsedSecret } from './parsed-secret';
import { SecretShapeError } from './secret-shape.error';
import { parseApiKeySecret, parsePasswordSecret, parseSharedSecret } from './single-value-secrets';
import { parseSshKeySecret } from './ssh-key-secret';

const PARSERS: Record<CredentialType, (input: unknown) => ParsedSecret> = {
  password: parsePasswordSecret,
  api_key: parseApiKeySecret,
  oauth: parseOauthSecret,
  ssh_key: parseSshKeySecret,
  shared_secret: parseSharedSecret,
  jwt: parseJwtSecret,
  connection_string: parseConnectionStringSecret,
  certificate: parseCertificateSecret,
  kv: parseKvSecret,
};

/**
 * Checks a secret against the shape of its credential type and returns it normalized, with the
 * non-secret facts derived from it. Pure: no I/O, no clock. Throws SecretShapeError (never quoting
 * the secret) when the input does not fit.
 */
export function parseSecret(type: CredentialType, input: unknown): ParsedSecret {
  if (!isCredentialType(type)) {
    throw new SecretShapeError([
      { field: 'type', errors: [`type must be one of ${CREDENTIAL_TYPES.join(', ')}`] },
    ]);
  }
  return PARSERS[type](input);
}
