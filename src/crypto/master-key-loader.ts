import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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

export interface MasterKeysInputs extends MasterKeyInputs {
  masterKeys?: string;
  masterKeysDir?: string;
  /** The id of a single key (environment, file or development key). */
  masterKeyId: string;
}

export interface LoadedMasterKeys {
  /** Key material by key id, in the order given. */
  keys: Map<string, Buffer>;
  source: MasterKeySource | 'environment-list' | 'directory';
  origin: string;
}

const KEY_FILE_SUFFIX = '.key';
const KEY_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;

/**
 * All master keys (KEKs) this instance holds. Several keys are given during a master-key
 * rotation: `CUSTOS_MASTER_KEYS=k1:<base64>,k2:<base64>`, or a directory of `<id>.key` files.
 * A single key (`CUSTOS_MASTER_KEY`, its file, or the development key) takes the id
 * `CUSTOS_MASTER_KEY_ID`. Returns null when production has no key at all.
 */
export function loadMasterKeys(inputs: MasterKeysInputs): LoadedMasterKeys | null {
  const given = [
    inputs.masterKey && 'CUSTOS_MASTER_KEY',
    inputs.masterKeyFile && 'CUSTOS_MASTER_KEY_FILE',
    inputs.masterKeys && 'CUSTOS_MASTER_KEYS',
    inputs.masterKeysDir && 'CUSTOS_MASTER_KEYS_DIR',
  ].filter(Boolean);
  if (given.length > 1) {
    throw new ConfigError([`${given.join(' and ')}: set one of them, not several`]);
  }
  if (inputs.masterKeys) {
    return {
      keys: parseKeyList(inputs.masterKeys),
      source: 'environment-list',
      origin: 'CUSTOS_MASTER_KEYS',
    };
  }
  if (inputs.masterKeysDir) {
    return {
      keys: readKeyDirectory(inputs.masterKeysDir),
      source: 'directory',
      origin: inputs.masterKeysDir,
    };
  }
  const single = loadMasterKey(inputs);
  if (!single) return null;
  return { ...single, keys: new Map([[inputs.masterKeyId, single.key]]) };
}

function parseKeyList(list: string): Map<string, Buffer> {
  const keys = new Map<string, Buffer>();
  for (const entry of list.split(',')) {
    const separator = entry.indexOf(':');
    const id = entry.slice(0, separator);
    if (separator < 1 || !KEY_ID.test(id)) {
      throw new ConfigError(['CUSTOS_MASTER_KEYS: each entry must be <key id>:<base64 key>']);
    }
    if (keys.has(id)) throw new ConfigError([`CUSTOS_MASTER_KEYS: key id "${id}" is given twice`]);
    keys.set(id, decodeKey(entry.slice(separator + 1), `CUSTOS_MASTER_KEYS (key "${id}")`));
  }
  return keys;
}

function readKeyDirectory(dir: string): Map<string, Buffer> {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith(KEY_FILE_SUFFIX));
  } catch (error) {
    throw new ConfigError([
      `CUSTOS_MASTER_KEYS_DIR: cannot read ${dir} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
    ]);
  }
  const keys = new Map<string, Buffer>();
  for (const name of names.sort()) {
    const id = name.slice(0, -KEY_FILE_SUFFIX.length);
    if (!KEY_ID.test(id)) {
      throw new ConfigError([
        `CUSTOS_MASTER_KEYS_DIR: ${name} is not named <key id>.key (a-z, 0-9, '-')`,
      ]);
    }
    keys.set(id, readKeyFile(join(dir, name), `CUSTOS_MASTER_KEYS_DIR (${name})`));
  }
  if (keys.size === 0) {
    throw new ConfigError([`CUSTOS_MASTER_KEYS_DIR: no <key id>.key file in ${dir}`]);
  }
  return keys;
}

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
