import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../config/config-error';
import {
  DEV_MASTER_KEY_FILE,
  loadMasterKey,
  loadMasterKeys,
  MasterKeyInputs,
  MasterKeysInputs,
} from './master-key-loader';

function configErrorFor(inputs: MasterKeyInputs): ConfigError {
  try {
    loadMasterKey(inputs);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadMasterKey', () => {
  let dir: string;
  let dataDir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'custos-master-key-'));
    dataDir = join(dir, 'data');
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('should decode a key given in the environment', () => {
    const key = randomBytes(32);
    const sut = loadMasterKey({ masterKey: key.toString('base64'), isProduction: true, dataDir });
    expect(sut).not.toBeNull();
    expect(sut!.key.equals(key)).toBe(true);
    expect(sut!.source).toBe('environment');
    expect(sut!.origin).toBe('CUSTOS_MASTER_KEY');
  });

  it('should read a key file, tolerating a trailing newline', () => {
    const key = randomBytes(32);
    const file = join(dir, 'custos.key');
    writeFileSync(file, `${key.toString('base64')}\n`);
    const sut = loadMasterKey({ masterKeyFile: file, isProduction: true, dataDir });
    expect(sut).not.toBeNull();
    expect(sut!.key.equals(key)).toBe(true);
    expect(sut!.source).toBe('file');
    expect(sut!.origin).toBe(file);
  });

  it('should read a key file without a trailing newline', () => {
    const key = randomBytes(32);
    const file = join(dir, 'custos.key');
    writeFileSync(file, key.toString('base64'));
    expect(loadMasterKey({ masterKeyFile: file, isProduction: false, dataDir })!.key).toEqual(key);
  });

  it('should refuse a key in both the environment and a file, naming both variables', () => {
    const file = join(dir, 'custos.key');
    writeFileSync(file, `${randomBytes(32).toString('base64')}\n`);
    const error = configErrorFor({
      masterKey: randomBytes(32).toString('base64'),
      masterKeyFile: file,
      isProduction: true,
      dataDir,
    });
    expect(error.message).toContain('CUSTOS_MASTER_KEY ');
    expect(error.message).toContain('CUSTOS_MASTER_KEY_FILE');
  });

  it.each([
    ['too short', 'short'],
    ['16 bytes', randomBytes(16).toString('base64')],
    ['not base64', `${'!'.repeat(43)}=`],
  ])('should refuse a malformed environment key (%s) without echoing it', (_case, value) => {
    const error = configErrorFor({ masterKey: value, isProduction: true, dataDir });
    expect(error.message).toContain('CUSTOS_MASTER_KEY');
    expect(error.message).not.toContain('CUSTOS_MASTER_KEY_FILE');
    expect(error.message).not.toContain(value);
  });

  it('should name CUSTOS_MASTER_KEY_FILE when the key file does not exist', () => {
    const missing = join(dir, 'missing.key');
    const error = configErrorFor({ masterKeyFile: missing, isProduction: true, dataDir });
    expect(error.message).toContain('CUSTOS_MASTER_KEY_FILE');
    expect(error.message).toContain(missing);
    expect(error.message).toContain('ENOENT');
  });

  it('should name CUSTOS_MASTER_KEY_FILE when the key file path is a directory', () => {
    const error = configErrorFor({ masterKeyFile: dir, isProduction: true, dataDir });
    expect(error.message).toContain('CUSTOS_MASTER_KEY_FILE');
  });

  it('should name CUSTOS_MASTER_KEY_FILE without echoing the content of a malformed key file', () => {
    const file = join(dir, 'custos.key');
    const content = 'not-a-key-but-maybe-a-secret';
    writeFileSync(file, `${content}\n`);
    const error = configErrorFor({ masterKeyFile: file, isProduction: true, dataDir });
    expect(error.message).toContain('CUSTOS_MASTER_KEY_FILE');
    expect(error.message).not.toContain(content);
  });

  it('should return null in production when no key is given, and create no file', () => {
    expect(loadMasterKey({ isProduction: true, dataDir })).toBeNull();
    expect(existsSync(join(dataDir, DEV_MASTER_KEY_FILE))).toBe(false);
  });

  it('should generate a private development key file outside production', () => {
    const sut = loadMasterKey({ isProduction: false, dataDir });
    const devFile = join(dataDir, DEV_MASTER_KEY_FILE);
    expect(sut).not.toBeNull();
    expect(sut!.source).toBe('generated-dev-file');
    expect(sut!.origin).toBe(devFile);
    expect(sut!.key).toHaveLength(32);
    expect(statSync(devFile).mode & 0o777).toBe(0o600);
    expect(readFileSync(devFile, 'utf8')).toBe(`${sut!.key.toString('base64')}\n`);
  });

  it('should read the same development key back on the next start', () => {
    const first = loadMasterKey({ isProduction: false, dataDir });
    const second = loadMasterKey({ isProduction: false, dataDir });
    expect(first!.source).toBe('generated-dev-file');
    expect(second!.source).toBe('dev-file');
    expect(second!.origin).toBe(join(dataDir, DEV_MASTER_KEY_FILE));
    expect(second!.key.equals(first!.key)).toBe(true);
  });

  it('should generate a different development key for each data directory', () => {
    const first = loadMasterKey({ isProduction: false, dataDir });
    const second = loadMasterKey({ isProduction: false, dataDir: join(dir, 'other') });
    expect(second!.source).toBe('generated-dev-file');
    expect(second!.key.equals(first!.key)).toBe(false);
  });

  it('should refuse a corrupted development key file rather than replace it', () => {
    const devFile = join(dir, DEV_MASTER_KEY_FILE);
    writeFileSync(devFile, 'garbage\n', { mode: 0o600 });
    const error = configErrorFor({ isProduction: false, dataDir: dir });
    expect(error.message).toContain(devFile);
    expect(readFileSync(devFile, 'utf8')).toBe('garbage\n');
  });

  it('should prefer a given key to the development key file', () => {
    const generated = loadMasterKey({ isProduction: false, dataDir });
    const key = randomBytes(32);
    const sut = loadMasterKey({ masterKey: key.toString('base64'), isProduction: false, dataDir });
    expect(sut!.source).toBe('environment');
    expect(sut!.key.equals(key)).toBe(true);
    expect(sut!.key.equals(generated!.key)).toBe(false);
  });
});

describe('loadMasterKeys', () => {
  let dir: string;
  let dataDir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'custos-master-keys-'));
    dataDir = join(dir, 'data');
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function keysErrorFor(inputs: Partial<MasterKeysInputs>): ConfigError {
    try {
      loadMasterKeys({ isProduction: true, dataDir, masterKeyId: 'k1', ...inputs });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return error as ConfigError;
    }
    throw new Error('expected a ConfigError');
  }

  it('should give a single key the id CUSTOS_MASTER_KEY_ID', () => {
    const key = randomBytes(32);
    const sut = loadMasterKeys({
      masterKey: key.toString('base64'),
      masterKeyId: 'prod-1',
      isProduction: true,
      dataDir,
    });
    expect([...sut!.keys.keys()]).toEqual(['prod-1']);
    expect(sut!.keys.get('prod-1')!.equals(key)).toBe(true);
  });

  it('should read several keys by id from CUSTOS_MASTER_KEYS, in order', () => {
    const k1 = randomBytes(32);
    const k2 = randomBytes(32);
    const sut = loadMasterKeys({
      masterKeys: `k1:${k1.toString('base64')},k2:${k2.toString('base64')}`,
      masterKeyId: 'k1',
      isProduction: true,
      dataDir,
    });
    expect([...sut!.keys.keys()]).toEqual(['k1', 'k2']);
    expect(sut!.keys.get('k2')!.equals(k2)).toBe(true);
    expect(sut!.source).toBe('environment-list');
  });

  it('should read every <id>.key file of CUSTOS_MASTER_KEYS_DIR and ignore other files', () => {
    const k1 = randomBytes(32);
    const k2 = randomBytes(32);
    writeFileSync(join(dir, 'k1.key'), `${k1.toString('base64')}\n`);
    writeFileSync(join(dir, 'k2.key'), k2.toString('base64'));
    writeFileSync(join(dir, 'README'), 'not a key');
    const sut = loadMasterKeys({
      masterKeysDir: dir,
      masterKeyId: 'k1',
      isProduction: true,
      dataDir,
    });
    expect([...sut!.keys.keys()]).toEqual(['k1', 'k2']);
    expect(sut!.keys.get('k1')!.equals(k1)).toBe(true);
    expect(sut!.origin).toBe(dir);
  });

  it('should refuse two sources at once, naming both', () => {
    const key = randomBytes(32).toString('base64');
    const error = keysErrorFor({ masterKey: key, masterKeys: `k2:${key}` });
    expect(error.message).toContain('CUSTOS_MASTER_KEY and CUSTOS_MASTER_KEYS');
  });

  it('should refuse an id given twice and a malformed entry without echoing the key', () => {
    const key = randomBytes(32).toString('base64');
    expect(keysErrorFor({ masterKeys: `k1:${key},k1:${key}` }).message).toContain(
      '"k1" is given twice',
    );
    const malformed = keysErrorFor({ masterKeys: `k1:${key.slice(0, 20)}` });
    expect(malformed.message).toContain('CUSTOS_MASTER_KEYS');
    expect(malformed.message).not.toContain(key.slice(0, 20));
  });

  it('should refuse a key directory without keys, and a badly named key file', () => {
    expect(keysErrorFor({ masterKeysDir: dir }).message).toContain('no <key id>.key file');
    writeFileSync(join(dir, 'Bad Name.key'), randomBytes(32).toString('base64'));
    expect(keysErrorFor({ masterKeysDir: dir }).message).toContain('is not named <key id>.key');
  });

  it('should return null in production when no key is given at all', () => {
    expect(loadMasterKeys({ isProduction: true, dataDir, masterKeyId: 'k1' })).toBeNull();
  });
});
