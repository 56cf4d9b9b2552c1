import { IsInt, Max, Min } from 'class-validator';
import { RequestValidationError } from '../../common/validation/request-validation.error';
import { RotatorRegistry } from './rotator-registry';
import type { Rotator } from './rotator';
import { PermanentRotationError } from './rotator';

class PortSettings {
  @IsInt()
  @Min(1)
  @Max(65535)
  port!: number;
}

const portRotator: Rotator<PortSettings> = {
  kind: 'port',
  settingsClass: PortSettings,
  describe: () => ({
    kind: 'port',
    summary: 'test',
    types: ['password'],
    usesGenerator: false,
    settings: {},
  }),
  create: () => Promise.resolve({ password: 'x' }),
  apply: () => Promise.resolve(),
  test: () => Promise.resolve(),
  finish: () => Promise.resolve(),
};

function fields(work: () => unknown): { field: string; errors: string[] }[] {
  try {
    work();
  } catch (error) {
    if (error instanceof RequestValidationError) return error.fields;
    throw error;
  }
  throw new Error('expected a RequestValidationError');
}

describe('RotatorRegistry', () => {
  let sut: RotatorRegistry;

  beforeEach(() => {
    sut = new RotatorRegistry();
    sut.register(portRotator);
  });

  it('should know the generated and manual rotators', () => {
    expect(sut.kinds()).toEqual(expect.arrayContaining(['generated', 'manual']));
  });

  it('should refuse an unknown kind, naming the ones there are', () => {
    expect(fields(() => sut.resolve({ kind: 'ldap' }, 'password'))).toEqual([
      { field: 'rotator.kind', errors: [expect.stringContaining('generated')] },
    ]);
  });

  it('should refuse a rotator for a type it cannot rotate', () => {
    expect(fields(() => sut.resolve({ kind: 'generated' }, 'certificate'))[0].errors[0]).toMatch(
      /cannot rotate a certificate/,
    );
  });

  it('should validate settings with the rotator class, naming the field', () => {
    expect(fields(() => sut.resolve({ kind: 'port', port: 70000 }, 'password'))).toEqual([
      { field: 'rotator.port', errors: [expect.stringContaining('65535')] },
    ]);
  });

  it('should refuse settings the rotator does not have', () => {
    expect(fields(() => sut.resolve({ kind: 'generated', host: 'db' }, 'password'))).toEqual([
      { field: 'rotator.host', errors: [expect.stringContaining('should not exist')] },
    ]);
  });

  it('should give the settings as an instance of the settings class', () => {
    const choice = sut.resolve({ kind: 'port', port: 3306 }, 'password');
    expect(choice.settings).toBeInstanceOf(PortSettings);
    expect(choice.rotator).toBe(portRotator);
  });

  it('should fail a run for good when its rotator kind is no longer known', () => {
    expect(() => sut.get('gone')).toThrow(PermanentRotationError);
  });

  it('should resolve without a type, for a path-pattern policy', () => {
    expect(sut.resolve({ kind: 'manual' }, null).rotator.kind).toBe('manual');
  });

  it('should say whether a kind can rotate a type, without throwing', () => {
    expect(sut.supports('generated', 'password')).toBe(true);
    expect(sut.supports('generated', 'ssh_key')).toBe(false);
    expect(sut.supports('manual', 'ssh_key')).toBe(true);
    expect(sut.supports('ldap', 'password')).toBe(false);
  });
});
