import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../config/config-error';
import { MASTER_KEY_BYTES } from './purpose-keys';

export type MasterKeySource = 'environment' | 'file' | 'generated-dev-file' | 'dev-file';

export interface LoadedMasterKey {
  key: Buffer;
  source: MasterKeySource;
  /** Where it came from, for the log: a variable name or a path, never the key. */
  origin: string;
}

export interface MasterKeyInputs {
  masterKey?: string;
  masterKeyFile?: string;
  isProduction: boolean;
  dataDir: string;
}

export const DEV_MASTER_KEY_FILE = 'master.key';

/**
 * Finds the master key: the environment, then a key file; outside production, a development key
 * in the data directory (created on first use). Returns null when production has no key: the
 * service then starts sealed rather than refusing to start, like a sealed Vault.
 */
export function loadMasterKey(inputs: MasterKeyInputs): LoadedMasterKey | null {
  if (inputs.masterKey && inputs.masterKeyFile) {
    throw new ConfigError([
      'CUSTOS_MASTER_KEY and CUSTOS_MASTER_KEY_FILE: set one of them, not both',
    ]);
  }
  if (inputs.masterKey) {
    return {
      key: decodeKey(inputs.masterKey, 'CUSTOS_MASTER_KEY'),
      source: 'environment',
      origin: 'CUSTOS_MASTER_KEY',
    };
  }
  if (inputs.masterKeyFile) {
    return {
      key: readKeyFile(inputs.masterKeyFile, 'CUSTOS_MASTER_KEY_FILE'),
      source: 'file',
      origin: inputs.masterKeyFile,
    };
  }
  if (inputs.isProduction) return null;
  const devFile = join(inputs.dataDir, DEV_MASTER_KEY_FILE);
  if (existsSync(devFile)) {
    return { key: readKeyFile(devFile, devFile), source: 'dev-file', origin: devFile };
  }
  mkdirSync(inputs.dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(MASTER_KEY_BYTES);
  // 'wx' never overwrites: a key written by a concurrent start wins and is read back instead.
  try {
    writeFileSync(devFile, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
      return { key: readKeyFile(devFile, devFile), source: 'dev-file', origin: devFile };
    }
    throw error;
  }
  return { key, source: 'generated-dev-file', origin: devFile };
}

function readKeyFile(path: string, name: string): Buffer {
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError([
      `${name}: cannot read key file ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    ]);
  }
  return decodeKey(content.trim(), name);
}

function decodeKey(base64: string, name: string): Buffer {
  const key = /^[A-Za-z0-9+/]{43}=$/.test(base64) ? Buffer.from(base64, 'base64') : Buffer.alloc(0);
  if (key.length !== MASTER_KEY_BYTES) {
    throw new ConfigError([`${name}: must hold ${MASTER_KEY_BYTES} bytes encoded as base64`]);
  }
  return key;
}
