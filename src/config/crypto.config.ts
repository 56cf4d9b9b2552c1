import { registerAs } from '@nestjs/config';
import { IsOptional, IsString, Matches } from 'class-validator';
import { Env, validateEnv } from './validate-env';

const KEY_ID = '[a-z0-9][a-z0-9-]{0,31}';
const BASE64_KEY = '[A-Za-z0-9+/]{43}=';

class CryptoEnv {
  @IsOptional()
  @Matches(new RegExp(`^${BASE64_KEY}$`), {
    message: 'must be 32 bytes encoded as base64 (44 characters)',
  })
  CUSTOS_MASTER_KEY?: string;

  @IsOptional()
  @IsString()
  CUSTOS_MASTER_KEY_FILE?: string;

  @IsOptional()
  @Matches(new RegExp(`^${KEY_ID}:${BASE64_KEY}(,${KEY_ID}:${BASE64_KEY})*$`), {
    message: 'must be a comma-separated list of <key id>:<32 bytes in base64>',
  })
  CUSTOS_MASTER_KEYS?: string;

  @IsOptional()
  @IsString()
  CUSTOS_MASTER_KEYS_DIR?: string;

  @Matches(new RegExp(`^${KEY_ID}$`), {
    message: 'must be 1-32 characters of lower-case letters, digits and dashes',
  })
  CUSTOS_MASTER_KEY_ID = 'k1';
}

export interface CryptoConfig {
  /** Base64 key from the environment, when given there. */
  masterKey?: string;
  /** Path of a file holding the base64 key, when given. */
  masterKeyFile?: string;
  /** Several keys by id (`k1:<base64>,k2:<base64>`), for a master-key rotation. */
  masterKeys?: string;
  /** A directory of `<key id>.key` files, the file form of masterKeys. */
  masterKeysDir?: string;
  /**
   * The id of a single key (CUSTOS_MASTER_KEY, its file or the development key), and the key a
   * new deployment enrols first when several are given.
   */
  masterKeyId: string;
}

export function loadCryptoConfig(env: Env): CryptoConfig {
  const v = validateEnv(CryptoEnv, env);
  return {
    masterKey: v.CUSTOS_MASTER_KEY,
    masterKeyFile: v.CUSTOS_MASTER_KEY_FILE,
    masterKeys: v.CUSTOS_MASTER_KEYS,
    masterKeysDir: v.CUSTOS_MASTER_KEYS_DIR,
    masterKeyId: v.CUSTOS_MASTER_KEY_ID,
  };
}

export const cryptoConfig = registerAs('crypto', () => loadCryptoConfig(process.env));
