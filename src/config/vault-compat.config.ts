import { registerAs } from '@nestjs/config';
import { IsBoolean, IsString } from 'class-validator';
import { durationSeconds } from '../common/duration';
import { ConfigError } from './config-error';
import { IsDurationBetween } from './env-duration';
import { EnvBoolean } from './env-transforms';
import { Env, validateEnv } from './validate-env';

class VaultCompatEnv {
  /** The Vault KV v2 compatibility API under /v1; off: every /v1 route answers 404. */
  @EnvBoolean()
  @IsBoolean()
  VAULT_COMPAT_ENABLED = true;

  /**
   * KV v2 mounts, comma-separated `name=prefix`: `secret=` makes /v1/secret/data/acme/db the
   * credential at acme/db; `kv=teams/` makes /v1/kv/data/x the one at teams/x.
   */
  @IsString()
  VAULT_COMPAT_MOUNTS = 'secret=';

  /** How long a token from the AppRole login lasts (never longer than its API key). */
  @IsDurationBetween(60, 24 * 3600, 'PT1H')
  VAULT_COMPAT_TOKEN_TTL = 'PT1H';
}

/** A KV v2 mount: `/v1/<name>/data/<rest>` is the credential at `<prefix><rest>`. */
export interface VaultMount {
  name: string;
  /** '' (the whole path space) or a path prefix ending in '/'. */
  prefix: string;
}

export interface VaultCompatConfig {
  enabled: boolean;
  mounts: VaultMount[];
  tokenTtlSeconds: number;
}

const MOUNT_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const PREFIX = /^([a-z0-9._-]{1,64}\/)*$/;
/** Names Vault itself routes elsewhere; a mount by that name could never be reached. */
const RESERVED = new Set(['sys', 'auth', 'identity', 'cubbyhole']);

/** Parses VAULT_COMPAT_MOUNTS; every problem names the variable and the entry. */
export function parseVaultMounts(value: string): VaultMount[] {
  const problems: string[] = [];
  const mounts: VaultMount[] = [];
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  if (entries.length === 0) problems.push('at least one mount, e.g. secret=');
  for (const entry of entries) {
    const equals = entry.indexOf('=');
    if (equals < 0) {
      problems.push(`'${entry}' must be name=prefix (e.g. secret= or kv=teams/)`);
      continue;
    }
    const name = entry.slice(0, equals).trim();
    const prefix = entry.slice(equals + 1).trim();
    if (!MOUNT_NAME.test(name)) {
      problems.push(`mount name '${name}' may only hold a-z, 0-9, '.', '_' and '-'`);
    } else if (RESERVED.has(name)) {
      problems.push(`mount name '${name}' is reserved by Vault`);
    } else if (mounts.some((m) => m.name === name)) {
      problems.push(`mount '${name}' is named twice`);
    }
    if (!PREFIX.test(prefix) || prefix.split('/').some((s) => s === '.' || s === '..')) {
      problems.push(
        `prefix '${prefix}' of mount '${name}' must be empty or path segments ending in '/' (e.g. teams/)`,
      );
    }
    mounts.push({ name, prefix });
  }
  if (problems.length > 0) {
    throw new ConfigError(problems.map((p) => `VAULT_COMPAT_MOUNTS: ${p}`));
  }
  return mounts;
}

export function loadVaultCompatConfig(env: Env): VaultCompatConfig {
  const v = validateEnv(VaultCompatEnv, env);
  return {
    enabled: v.VAULT_COMPAT_ENABLED,
    mounts: parseVaultMounts(v.VAULT_COMPAT_MOUNTS),
    tokenTtlSeconds: durationSeconds(v.VAULT_COMPAT_TOKEN_TTL),
  };
}

export const vaultCompatConfig = registerAs('vaultCompat', () =>
  loadVaultCompatConfig(process.env),
);
