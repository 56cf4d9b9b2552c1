import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

// The secret of each credential type, for the OpenAPI document only: parseSecret() checks them.

export class PasswordSecretDto {
  @ApiProperty({ maxLength: 4096 }) password!: string;
}

export class ApiKeySecretDto {
  @ApiProperty({ maxLength: 4096 }) apiKey!: string;
}

export class OauthSecretDto {
  @ApiProperty() clientId!: string;
  @ApiProperty() clientSecret!: string;
  @ApiPropertyOptional({ example: 'https://auth.acme.example/oauth/token' }) tokenUrl?: string;
  @ApiPropertyOptional({ type: [String], example: ['read:users'] }) scopes?: string[];
}

export class SshKeySecretDto {
  @ApiProperty({ description: 'PEM (PKCS#1, PKCS#8, SEC1) or OpenSSH private key' })
  privateKey!: string;
  @ApiPropertyOptional({ description: 'For an encrypted private key' }) passphrase?: string;
  @ApiPropertyOptional({ description: 'OpenSSH line or PEM; must match the private key' })
  publicKey?: string;
}

export class SharedSecretDto {
  @ApiProperty() secret!: string;
}

export class JwtSecretDto {
  @ApiProperty({ description: 'A compact JWS; its alg and exp become metadata' }) token!: string;
}

export class ConnectionStringSecretDto {
  @ApiProperty({ example: 'mysql://app:pa55@db.acme.internal:3306/app' })
  connectionString!: string;
}

export class CertificateSecretDto {
  @ApiProperty({ description: 'One PEM certificate' }) certificate!: string;
  @ApiPropertyOptional({ description: 'Unencrypted PEM private key matching the certificate' })
  privateKey?: string;
  @ApiPropertyOptional({ description: 'PEM certificates of the chain' }) chain?: string;
}

export class KvSecretDto {
  @ApiProperty({
    description: 'type kv: a flat map of string values (what Vault KV v2 clients write)',
    example: { username: 'app', password: 'pa55' },
  })
  '[key]'!: string;
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
  KvSecretDto,
];
