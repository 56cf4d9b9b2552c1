import { ApiProperty, ApiPropertyOptional, getSchemaPath } from '@nestjs/swagger';
import { SECRET_MAX_BYTES } from '../secret-input';
import { KV_MAX_KEYS } from '../secrets/kv-secret';
import { MAX_SCOPES } from '../secrets/oauth-secret';

// The secret of each credential type, for the OpenAPI document only: parseSecret() checks them.
// Limits in bytes there are given as maxLength here (a string never has more characters than bytes).

export class PasswordSecretDto {
  @ApiProperty({ maxLength: 4096 }) password!: string;
}

export class ApiKeySecretDto {
  @ApiProperty({ maxLength: 4096 }) apiKey!: string;
}

export class OauthSecretDto {
  @ApiProperty({ maxLength: 512 }) clientId!: string;
  @ApiProperty({ maxLength: 4096 }) clientSecret!: string;
  @ApiPropertyOptional({
    format: 'uri',
    maxLength: 2048,
    example: 'https://auth.acme.example/oauth/token',
  })
  tokenUrl?: string;
  @ApiPropertyOptional({
    type: 'array',
    items: { type: 'string', maxLength: 256 },
    maxItems: MAX_SCOPES,
    example: ['read:users'],
  })
  scopes?: string[];
}

export class SshKeySecretDto {
  @ApiProperty({
    maxLength: 16 * 1024,
    description: 'PEM (PKCS#1, PKCS#8, SEC1) or OpenSSH private key',
  })
  privateKey!: string;
  @ApiPropertyOptional({ maxLength: 1024, description: 'For an encrypted private key' })
  passphrase?: string;
  @ApiPropertyOptional({
    maxLength: 16 * 1024,
    description: 'OpenSSH line or PEM; must match the private key',
  })
  publicKey?: string;
}

export class SharedSecretDto {
  @ApiProperty({ maxLength: 65536 }) secret!: string;
}

export class JwtSecretDto {
  @ApiProperty({
    maxLength: 16 * 1024,
    description: 'A compact JWS; its alg and exp become metadata',
  })
  token!: string;
}

export class ConnectionStringSecretDto {
  @ApiProperty({ maxLength: 4096, example: 'mysql://app:pa55@db.acme.internal:3306/app' })
  connectionString!: string;
}

export class CertificateSecretDto {
  @ApiProperty({ maxLength: 64 * 1024, description: 'One PEM certificate' }) certificate!: string;
  @ApiPropertyOptional({
    maxLength: 16 * 1024,
    description: 'Unencrypted PEM private key matching the certificate',
  })
  privateKey?: string;
  @ApiPropertyOptional({ maxLength: 64 * 1024, description: 'PEM certificates of the chain' })
  chain?: string;
}


export const SECRET_SHAPES = [
  PasswordSecretDto,
  ApiKeySecretDto,
  OauthSecretDto,
  SshKeySecretDto,
  SharedSecretDto,
  JwtSecretDto,
  ConnectionStringSecretDto,
  CertificateSecretDto,
];

/**
 * Type kv: a flat map of string values (what Vault KV v2 clients write). Inline, since a class
 * cannot say "any key, string values" to the OpenAPI generator.
 */
export const KV_SECRET_SCHEMA = {
  title: 'KvSecret',
  type: 'object',
  description: 'type kv: a flat map of string values (what Vault KV v2 clients write)',
  maxProperties: KV_MAX_KEYS,
  additionalProperties: { type: 'string', maxLength: SECRET_MAX_BYTES },
  example: { username: 'app', password: 'pa55' },
} as const;

/** Every secret shape, for a `oneOf`. */
export function secretShapesOneOf() {
  return [...SECRET_SHAPES.map((shape) => ({ $ref: getSchemaPath(shape) })), KV_SECRET_SCHEMA];
}
