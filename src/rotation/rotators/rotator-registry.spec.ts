import { RequestValidationError } from '../../common/validation/request-validation.error';
import { GeneratedRotator } from './generated.rotator';
import { RotatorRegistry } from './rotator-registry';

describe('RotatorRegistry', () => {
  const sut = new RotatorRegistry();

  it('should resolve a rotator that takes no settings', () => {
    const choice = sut.resolve({ kind: 'generated' }, 'api_key');

    expect(choice.rotator).toBeInstanceOf(GeneratedRotator);
    expect(choice.settings).toEqual({});
  });

  it('should resolve without a type, for a path-pattern policy', () => {
    expect(sut.resolve({ kind: 'manual' }, null).rotator.kind).toBe('manual');
  });

  it.each([
    ['an unknown kind', { kind: 'ldap' }, 'password', 'rotator.kind'],
    [
      'a setting the rotator does not take',
      { kind: 'manual', notify: 'ops' },
      'password',
      'rotator.notify',
    ],
    ['a type the rotator cannot rotate', { kind: 'generated' }, 'certificate', 'rotator.kind'],
  ] as const)('should refuse %s with a 400 naming the field', (_case, settings, type, field) => {
    expect(() => sut.resolve(settings, type)).toThrow(RequestValidationError);
    try {
      sut.resolve(settings, type);
    } catch (error) {
      expect((error as RequestValidationError).fields.map((f) => f.field)).toEqual([field]);
    }
  });

  it('should say whether a kind can rotate a type, without throwing', () => {
    expect(sut.supports('generated', 'password')).toBe(true);
    expect(sut.supports('generated', 'ssh_key')).toBe(false);
    expect(sut.supports('manual', 'ssh_key')).toBe(true);
    expect(sut.supports('ldap', 'password')).toBe(false);
  });
});
