/** Names of the OpenAPI security schemes, shared by the document builder and the controllers. */
export const JWT_SCHEME = 'jwt';
export const API_KEY_SCHEME = 'api-key';
