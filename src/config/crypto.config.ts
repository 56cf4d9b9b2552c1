import { registerAs } from '@nestjs/config';
import { IsOptional, IsString, Matches } from 'class-validator';
import { Env, validateEnv } from './validate-env';

class CryptoEnv {
  @IsOptional()
  @Matches(/^[A-Za-z0-9+/]{43}=$/, {
    message: 'must be 32 bytes encoded as base64 (44 characters)',
  })
  CUSTOS_MASTER_KEY?: string;

  @IsOptional()
  @IsString()
  CUSTOS_MASTER_KEY_FILE?: string;

  @Matches(/^[a-z0-9][a-z0-9-]{0,31}$/, {
    message: 'must be 1-32 characters of lower-case letters, digits and dashes',
  })
  CUSTOS_MASTER_KEY_ID = 'k1';
}

export interface CryptoConfig {
  /** Base64 key from the environment, when given there. */
  masterKey?: string;
  /** Path of a file holding the base64 key, when given. */
  masterKeyFile?: string;
  /** The id under which the key's check value is stored in the keyring table. */
  masterKeyId: string;
}

export function loadCryptoConfig(env: Env): CryptoConfig {
  const v = validateEnv(CryptoEnv, env);
  return {
    masterKey: v.CUSTOS_MASTER_KEY,
    masterKeyFile: v.CUSTOS_MASTER_KEY_FILE,
    masterKeyId: v.CUSTOS_MASTER_KEY_ID,
  };
}

export const cryptoConfig = registerAs('crypto', () => loadCryptoConfig(process.env));
