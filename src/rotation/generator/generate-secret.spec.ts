import { CLASS_ALPHABETS, generateSecret } from './generate-secret';
import type { CharacterClass } from './generator-spec';

describe('generateSecret', () => {
  it('should make passwords of the asked length holding every class asked for', () => {
    const classes: CharacterClass[] = ['lower', 'upper', 'digits', 'symbols'];
    for (let i = 0; i < 200; i++) {
      const value = generateSecret({ format: 'password', length: 12, classes });
      expect(value).toHaveLength(12);
      for (const c of classes) {
        expect([...value].some((ch) => CLASS_ALPHABETS[c].includes(ch))).toBe(true);
      }
    }
  });

  it('should draw only from the classes asked for', () => {
    const value = generateSecret({ format: 'password', length: 256, classes: ['digits'] });
    expect(value).toMatch(/^\d{256}$/);
  });

  it('should never put quotes, backslashes or spaces in a password', () => {
    const value = generateSecret({ format: 'password', length: 256, classes: ['symbols'] });
    expect(value).not.toMatch(/["'`\\\s]/);
  });

  it.each([
    ['api_key', /^ck_[A-Za-z0-9]{40}$/],
    ['hex', /^ck_[0-9a-f]{40}$/],
    ['base64url', /^ck_[A-Za-z0-9_-]{40}$/],
    ['uuid', /^ck_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/],
  ] as const)('should make %s values with the prefix in front', (format, shape) => {
    expect(generateSecret({ format, length: 40, prefix: 'ck_' })).toMatch(shape);
  });

  it('should not repeat itself', () => {
    const values = new Set(
      Array.from({ length: 1000 }, () => generateSecret({ format: 'api_key', length: 20 })),
    );
    expect(values.size).toBe(1000);
  });

  it('should spread characters evenly over the alphabet (no modulo bias)', () => {
    const counts = new Map<string, number>();
    const value = generateSecret({ format: 'password', length: 100_000, classes: ['digits'] });
    for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    for (const count of counts.values()) {
      expect(count).toBeGreaterThan(9_400);
      expect(count).toBeLessThan(10_600);
    }
  });
});
