import { PasswordHasher } from './password-hasher';

describe('PasswordHasher', () => {
  const sut = new PasswordHasher();
  const password = 'correct horse battery staple';
  let stored: string;

  beforeAll(async () => {
    stored = await sut.hash(password);
  });

  describe('hash', () => {
    it('should produce an argon2id string with the OWASP baseline parameters', () => {
      expect(stored.startsWith('$argon2id$')).toBe(true);
      expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/);
    });

    it('should salt every hash', async () => {
      const again = await sut.hash(password);

      expect(again).not.toBe(stored);
      await expect(sut.verify(again, password)).resolves.toBe(true);
    });

    it('should never contain the password', () => {
      expect(stored).not.toContain(password);
    });
  });

  describe('verify', () => {
    it('should accept the right password', async () => {
      await expect(sut.verify(stored, password)).resolves.toBe(true);
    });

    it.each([
      ['a wrong password', 'correct horse battery stapler'],
      ['the password in another case', password.toUpperCase()],
      ['an empty password', ''],
    ])('should refuse %s', async (_case, attempt) => {
      await expect(sut.verify(stored, attempt)).resolves.toBe(false);
    });

    it.each([
      ['an empty string', ''],
      ['plain text', 'not-a-hash'],
      ['a truncated argon2id string', '$argon2id$v=19$m=19456,t=2,p=1$'],
      ['an argon2id string with a broken salt', '$argon2id$v=19$m=19456,t=2,p=1$!!$!!'],
      ['a bcrypt hash', '$2b$10$abcdefghijklmnopqrstuuE0VYQ6n4mJpHSZc8xY0ErgxT6Q2CaKe'],
    ])('should answer false, not throw, for %s as the stored hash', async (_case, malformed) => {
      await expect(sut.verify(malformed, password)).resolves.toBe(false);
    });
  });

  describe('verifyNobody', () => {
    it('should resolve false', async () => {
      await expect(sut.verifyNobody(password)).resolves.toBe(false);
    });

    it('should resolve false even for the password of its own dummy hash', async () => {
      await expect(sut.verifyNobody('custos-no-such-user-password')).resolves.toBe(false);
    });

    it('should spend a real argon2 verification against a well-formed hash', async () => {
      const verify = jest.spyOn(sut, 'verify');
      try {
        await sut.verifyNobody(password);

        expect(verify).toHaveBeenCalledTimes(1);
        const [dummy, attempt] = verify.mock.calls[0];
        expect(dummy).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
        expect(attempt).toBe(password);
      } finally {
        verify.mockRestore();
      }
    });
  });
});
