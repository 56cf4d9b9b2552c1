export { CREDENTIAL_TYPES, isCredentialType } from '../../common/credential-types';
export type { CredentialType } from '../../common/credential-types';
