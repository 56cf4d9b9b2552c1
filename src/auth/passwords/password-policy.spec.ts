import { DomainError } from '../../common/errors/domain-error';
import {
  assertStrongPassword,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  WeakPasswordError,
} from './password-policy';

/** The error assertStrongPassword throws, or a test failure when it throws none. */
function refusal(password: string, context?: string[]): WeakPasswordError {
  try {
    assertStrongPassword(password, context);
  } catch (error) {
    return error as WeakPasswordError;
  }
  throw new Error(`expected ${JSON.stringify(password)} to be refused`);
}

const STRONG = 'kX9#mP2$vL8qR5';

describe('assertStrongPassword', () => {
  it('should require between 12 and 256 characters', () => {
    expect(MIN_PASSWORD_LENGTH).toBe(12);
    expect(MAX_PASSWORD_LENGTH).toBe(256);
  });

  it.each([
    ['an empty password', ''],
    ['one character', 'k'],
    ['11 random characters', STRONG.slice(0, 11)],
  ])('should refuse %s as too short', (_case, password) => {
    const sut = refusal(password);

    expect(sut.message).toBe('Password must be at least 12 characters');
  });

  it('should accept 12 random characters', () => {
    expect(() => assertStrongPassword(STRONG.slice(0, 12))).not.toThrow();
  });

  it('should accept 256 characters', () => {
    const password = STRONG.repeat(20).slice(0, 256);

    expect(() => assertStrongPassword(password)).not.toThrow();
  });

  it('should refuse 257 characters as too long', () => {
    const sut = refusal(STRONG.repeat(20).slice(0, 257));

    expect(sut.message).toBe('Password must be at most 256 characters');
  });

  it('should refuse a very long password before judging its strength', () => {
    const sut = refusal('a'.repeat(100_000));

    expect(sut.message).toBe('Password must be at most 256 characters');
  });

  it.each([
    'password1234',
    'hunter2hunter2',
    'qwertyuiop123',
    'iloveyou1234',
    '123456789012',
    'aaaaaaaaaaaa',
  ])('should refuse the guessable %s as too weak', (password) => {
    const sut = refusal(password);

    expect(sut.message).toMatch(/^Password is too weak: \S/);
  });

  it.each([
    ['alice@example.com2024', 'alice@example.com'],
    ['ada@example.com123', 'ada@example.com'],
    ['Alice@Example.com2024', 'alice@example.com'],
  ])('should refuse %s, the e-mail %s given as context plus digits', (password, email) => {
    expect(() => assertStrongPassword(password)).not.toThrow();

    const sut = refusal(password, [email]);

    expect(sut).toBeInstanceOf(WeakPasswordError);
    expect(sut.message).toMatch(/^Password is too weak: /);
  });

  it.each(['correct horse battery staple', STRONG])('should accept the strong %s', (password) => {
    expect(() => assertStrongPassword(password)).not.toThrow();
    expect(() => assertStrongPassword(password, ['ada@example.com'])).not.toThrow();
  });

  it.each([
    ['too short', 'short'],
    ['too long', 'x'.repeat(257)],
    ['too weak', 'password1234'],
  ])('should throw a WeakPasswordError of kind invalid when %s', (_case, password) => {
    const sut = refusal(password);

    expect(sut).toBeInstanceOf(WeakPasswordError);
    expect(sut).toBeInstanceOf(DomainError);
    expect(sut.kind).toBe('invalid');
    expect(sut.name).toBe('WeakPasswordError');
  });

  it('should never repeat the password in the message', () => {
    for (const password of ['password1234', 'x'.repeat(257), 'hunter2']) {
      expect(refusal(password).message).not.toContain(password);
    }
  });
});

describe('assertStrongPassword counting', () => {
  it('should count an emoji as one character', () => {
    expect(() => assertStrongPassword('🔒🔑🗝🔐🛡🔏🧷🪪🔓')).toThrow(/at least 12 characters/);
  });
});
