/**
 * The kinds of credential Custos stores; each has its own secret shape (see
 * `credentials/secrets/parse-secret.ts`). Here, not in credentials, because configuration names
 * them too (per-type rotation defaults) and config depends on common only.
 */
export const CREDENTIAL_TYPES = [
  'password',
  'api_key',
  'oauth',
  'ssh_key',
  'shared_secret',
  'jwt',
  'connection_string',
  'certificate',
  // A flat map of string values: what Vault KV v2 clients write (src/vault-compat).
  'kv',
] as const;

export type CredentialType = (typeof CREDENTIAL_TYPES)[number];

export function isCredentialType(value: unknown): value is CredentialType {
  return typeof value === 'string' && (CREDENTIAL_TYPES as readonly string[]).includes(value);
}
