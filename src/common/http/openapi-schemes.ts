/** Names of the OpenAPI security schemes, shared by the document builder and the controllers. */
export const JWT_SCHEME = 'jwt';
export const API_KEY_SCHEME = 'api-key';
/** Vault clients' header (the /v1 routes): an API key, an access token or an AppRole token. */
export const VAULT_TOKEN_SCHEME = 'vault-token';
