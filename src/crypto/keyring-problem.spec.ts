import { randomBytes } from 'node:crypto';
import { KeyringEntry } from './keyring-entry.entity';
import { keyringProblem } from './keyring.service';
import { computeCheckValue } from './purpose-keys';

const k1 = randomBytes(32);
const k2 = randomBytes(32);

function entry(id: string, key: Buffer, status: KeyringEntry['status']): KeyringEntry {
  return Object.assign(new KeyringEntry(), { id, status, checkValue: computeCheckValue(key) });
}

describe('keyringProblem', () => {
  const rotated = [entry('k1', k1, 'retired'), entry('k2', k2, 'active')];

  it('should accept the active key alone, and with retired keys still held', () => {
    expect(keyringProblem(rotated, new Map([['k2', k2]]))).toBeUndefined();
    expect(
      keyringProblem(
        rotated,
        new Map([
          ['k1', k1],
          ['k2', k2],
        ]),
      ),
    ).toBeUndefined();
  });

  it('should accept a configured key the keyring does not know yet (a rotation to come)', () => {
    const k3 = randomBytes(32);
    expect(
      keyringProblem(
        rotated,
        new Map([
          ['k2', k2],
          ['k3', k3],
        ]),
      ),
    ).toBeUndefined();
  });

  it('should refuse when the active key is not configured, naming it', () => {
    expect(keyringProblem(rotated, new Map([['k1', k1]]))).toBe(
      'the active master key "k2" is not configured (configured: k1)',
    );
  });

  it('should check every held key against its own check value, retired ones too', () => {
    const wrong = randomBytes(32);
    expect(
      keyringProblem(
        rotated,
        new Map([
          ['k1', wrong],
          ['k2', k2],
        ]),
      ),
    ).toContain('key "k1"');
    expect(
      keyringProblem(
        rotated,
        new Map([
          ['k1', k1],
          ['k2', wrong],
        ]),
      ),
    ).toContain('key "k2"');
  });

  it('should refuse a keyring without an active key', () => {
    expect(keyringProblem([entry('k1', k1, 'retired')], new Map([['k1', k1]]))).toBe(
      'the keyring has no active master key',
    );
  });

  it('should never put key material in its message', () => {
    const wrong = randomBytes(32);
    const problem = keyringProblem(rotated, new Map([['k2', wrong]]))!;
    for (const key of [k1, k2, wrong]) {
      expect(problem).not.toContain(key.toString('base64'));
      expect(problem).not.toContain(key.toString('hex'));
    }
  });
});
