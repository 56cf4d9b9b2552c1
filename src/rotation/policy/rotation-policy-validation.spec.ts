import { ArgumentMetadata } from '@nestjs/common';
import { RequestValidationError } from '../../common/validation/request-validation.error';
import { createValidationPipe } from '../../common/validation/validation-pipe';
import { loadRotationConfig } from '../../config/rotation.config';
import { RotatorRegistry } from '../rotators/rotator-registry';
import { PatternPolicyWriteDto, RotationPolicyWriteDto } from './dto/rotation-policy-write.dto';
import { generatorClassesProblem } from './generator-problems';
import type { PolicyInput } from './policy-input';
import { PolicyTarget, RotationPolicyValidator } from './rotation-policy-validator';

const NOW = new Date('2026-11-30T12:00:00.000Z');
const MINIMAL = { enabled: true, rotator: { kind: 'generated' } };

function fieldsOf(error: unknown): { field: string; errors: string[] }[] {
  expect(error).toBeInstanceOf(RequestValidationError);
  return (error as RequestValidationError).fields;
}

/** The body through the app's own validation pipe, as a controller receives it. */
async function parse(body: unknown, metatype: new () => object = RotationPolicyWriteDto) {
  const metadata: ArgumentMetadata = { type: 'body', metatype };
  return createValidationPipe().transform(body, metadata) as Promise<RotationPolicyWriteDto>;
}

async function shapeErrors(body: unknown, metatype?: new () => object) {
  try {
    await parse(body, metatype);
  } catch (error) {
    return fieldsOf(error);
  }
  throw new Error(`expected ${JSON.stringify(body)} to be refused`);
}

describe('rotation policy bodies', () => {
  beforeEach(() => jest.useFakeTimers({ now: NOW }));
  afterEach(() => jest.useRealTimers());

  it.each([
    ['the least there is', MINIMAL],
    ['an interval', { ...MINIMAL, interval: 'P30D', gracePeriod: 'PT12H' }],
    ['an interval of a minute', { ...MINIMAL, interval: 'PT1M', gracePeriod: 'PT0S' }],
    ['a schedule', { ...MINIMAL, schedule: '0 3 * * sun' }],
    ['null where a default applies', { ...MINIMAL, interval: null, schedule: null, window: null }],
    [
      'a window, an offset and a generator',
      {
        ...MINIMAL,
        schedule: '0 2 * * *',
        window: { days: ['sat', 'sun'], start: '01:30', duration: 'PT1H' },
        offset: 'PT15M',
        generator: { format: 'password', length: 24, classes: ['lower', 'digits'], prefix: 'pw_' },
      },
    ],
    ['a uuid generator without a length', { ...MINIMAL, generator: { format: 'uuid' } }],
    ['a window of every day', { ...MINIMAL, window: { start: '23:00', duration: 'P7D' } }],
  ])('should accept %s', async (_case, body) => {
    await expect(parse(body)).resolves.toBeInstanceOf(RotationPolicyWriteDto);
  });

  it.each([
    [
      'both interval and schedule',
      { interval: 'P1D', schedule: '0 3 * * *' },
      'schedule',
      /not.*both|one of interval and schedule/,
    ],
    ['an interval under a minute', { interval: 'PT59S' }, 'interval', /at least one minute/],
    ['an interval that is not a duration', { interval: '30 days' }, 'interval', /ISO 8601/],
    ['a schedule of six fields', { schedule: '0 0 3 * * *' }, 'schedule', /five fields/],
    ['a schedule that never fires', { schedule: '0 0 30 2 *' }, 'schedule', /never fires/],
    ['a schedule out of range', { schedule: '0 25 * * *' }, 'schedule', /out of range/],
    [
      'a window shorter than an hour',
      { window: { start: '02:00', duration: 'PT59M' } },
      'window.duration',
      /at least one hour/,
    ],
    [
      'a window in months',
      { window: { start: '02:00', duration: 'P1M' } },
      'window.duration',
      /weeks, days, hours or minutes/,
    ],
    [
      'a window start of 24:00',
      { window: { start: '24:00', duration: 'PT2H' } },
      'window.start',
      /HH:MM/,
    ],
    [
      'an unknown weekday',
      { window: { days: ['monday'], start: '02:00', duration: 'PT2H' } },
      'window.days',
      /must be one of/,
    ],
    [
      'a weekday twice',
      { window: { days: ['mon', 'mon'], start: '02:00', duration: 'PT2H' } },
      'window.days',
      /unique/,
    ],
    [
      'an unknown window field',
      { window: { start: '02:00', duration: 'PT2H', timezone: 'CET' } },
      'window.timezone',
      /should not exist/,
    ],
    ['a grace that is not a duration', { gracePeriod: '1 day' }, 'gracePeriod', /ISO 8601/],
    ['an offset that is not a duration', { offset: '-PT5M' }, 'offset', /ISO 8601/],
    ['a rotator without a kind', { rotator: { length: 3 } }, 'rotator', /kind/],
    ['a rotator that is a string', { rotator: 'generated' }, 'rotator', /object/],
    [
      'a generator length under 8',
      { generator: { format: 'password', length: 7 } },
      'generator.length',
      /not be less than 8/,
    ],
    [
      'a generator length over 256',
      { generator: { format: 'hex', length: 257 } },
      'generator.length',
      /not be greater than 256/,
    ],
    [
      'a generator without a length',
      { generator: { format: 'api_key' } },
      'generator.length',
      /integer/,
    ],
    [
      'a uuid generator with a length',
      { generator: { format: 'uuid', length: 36 } },
      'generator.length',
      /left out for the uuid format/,
    ],
    [
      'an unknown generator format',
      { generator: { format: 'words', length: 8 } },
      'generator.format',
      /must be one of/,
    ],
    [
      'classes on a hex generator',
      { generator: { format: 'hex', length: 32, classes: ['symbols'] } },
      'generator.classes',
      /password format only/,
    ],
    [
      'no classes at all',
      { generator: { format: 'password', length: 32, classes: [] } },
      'generator.classes',
      /not be empty/,
    ],
    [
      'an unknown class',
      { generator: { format: 'password', length: 32, classes: ['emoji'] } },
      'generator.classes',
      /must be one of/,
    ],
    [
      'a prefix with a space',
      { generator: { format: 'api_key', length: 32, prefix: 'ck live' } },
      'generator.prefix',
      /A-Z, a-z, 0-9/,
    ],
    [
      'a prefix of 33 characters',
      { generator: { format: 'api_key', length: 32, prefix: 'p'.repeat(33) } },
      'generator.prefix',
      /1 to 32/,
    ],
    [
      'an unknown generator field',
      { generator: { format: 'hex', length: 32, charset: 'abc' } },
      'generator.charset',
      /should not exist/,
    ],
    ['an unknown field', { rotateEvery: 'P1D' }, 'rotateEvery', /should not exist/],
    ['enabled as a string', { enabled: 'yes' }, 'enabled', /boolean/],
  ])('should refuse %s with a 400 naming the field', async (_case, change, field, message) => {
    const errors = await shapeErrors({ ...MINIMAL, ...change });

    expect(errors.map((e) => e.field)).toContain(field);
    expect(errors.find((e) => e.field === field)!.errors.join('; ')).toMatch(message);
  });

  it('should require enabled and a rotator', async () => {
    const errors = await shapeErrors({});

    expect(errors.map((e) => e.field)).toEqual(expect.arrayContaining(['enabled', 'rotator']));
  });

  it('should require a valid pathPattern of a pattern policy', async () => {
    await expect(
      parse({ ...MINIMAL, pathPattern: 'acme/prod/**' }, PatternPolicyWriteDto),
    ).resolves.toBeInstanceOf(PatternPolicyWriteDto);
    const errors = await shapeErrors(
      { ...MINIMAL, pathPattern: 'acme/pr*d' },
      PatternPolicyWriteDto,
    );
    expect(errors).toEqual([
      { field: 'pathPattern', errors: [expect.stringMatching(/wildcard must be a whole segment/)] },
    ]);
    expect((await shapeErrors(MINIMAL, PatternPolicyWriteDto)).map((e) => e.field)).toEqual([
      'pathPattern',
    ]);
  });

  it('should judge the classes of a generator against its length too', () => {
    expect(
      generatorClassesProblem({
        format: 'password',
        length: 3,
        classes: ['lower', 'upper', 'digits', 'symbols'],
      }),
    ).toMatch(/a length of 3 cannot hold 4 classes/);
    expect(
      generatorClassesProblem({
        format: 'password',
        length: 4,
        classes: ['lower', 'upper', 'digits', 'symbols'],
      }),
    ).toBeUndefined();
    expect(generatorClassesProblem({ format: 'api_key', length: 40 })).toBeUndefined();
  });
});

describe('RotationPolicyValidator', () => {
  let sut: RotationPolicyValidator;
  const config = loadRotationConfig({});

  beforeEach(() => {
    jest.useFakeTimers({ now: NOW });
    sut = new RotationPolicyValidator(new RotatorRegistry(), config);
  });

  afterEach(() => jest.useRealTimers());

  function refusal(input: Partial<PolicyInput>, target: PolicyTarget) {
    try {
      sut.check({ ...MINIMAL, ...input }, target, NOW);
    } catch (error) {
      return fieldsOf(error);
    }
    throw new Error(`expected ${JSON.stringify(input)} to be refused`);
  }

  it('should store what was given and leave the rest to the type defaults', () => {
    expect(sut.check({ ...MINIMAL }, { type: 'api_key' }, NOW)).toEqual({
      enabled: true,
      rotateEvery: null,
      schedule: null,
      window: null,
      gracePeriod: null,
      offset: null,
      rotator: { kind: 'generated' },
      generator: null,
      endGraceOnFullAdoption: false,
    });
  });

  it('should keep every field of a full policy, and a uuid generator its 36 characters', () => {
    const window = { days: ['sat'], start: '02:00', duration: 'PT4H' };
    expect(
      sut.check(
        {
          enabled: false,
          schedule: '0 2 * * sat',
          window,
          gracePeriod: 'PT1H',
          offset: 'PT5M',
          rotator: { kind: 'generated' },
          generator: { format: 'uuid', prefix: 'tok_' },
          endGraceOnFullAdoption: true,
        },
        { type: 'shared_secret' },
        NOW,
      ),
    ).toEqual({
      enabled: false,
      rotateEvery: null,
      schedule: '0 2 * * sat',
      window,
      gracePeriod: 'PT1H',
      offset: 'PT5M',
      rotator: { kind: 'generated' },
      generator: { format: 'uuid', length: 36, prefix: 'tok_' },
      endGraceOnFullAdoption: true,
    });
  });

  it.each([
    [
      'an unknown rotator kind',
      { rotator: { kind: 'ldap' } },
      { type: 'password' },
      'rotator.kind',
      /must be one of: generated, manual/,
    ],
    [
      'settings the rotator does not take',
      { rotator: { kind: 'generated', length: 3 } },
      { type: 'password' },
      'rotator.length',
      /should not exist/,
    ],
    [
      'an unknown rotator kind on a pattern',
      { rotator: { kind: 'ldap' } },
      { type: null },
      'rotator.kind',
      /must be one of/,
    ],
    [
      'a rotator that cannot rotate the type',
      { rotator: { kind: 'generated' } },
      { type: 'oauth' },
      'rotator.kind',
      /cannot rotate a oauth credential/,
    ],
    [
      'a generator on the manual rotator',
      { rotator: { kind: 'manual' }, generator: { format: 'hex', length: 32 } },
      { type: 'password' },
      'generator',
      /the manual rotator makes no values/,
    ],
    [
      'a grace longer than the interval',
      { interval: 'PT12H', gracePeriod: 'PT24H' },
      { type: 'api_key' },
      'gracePeriod',
      /gracePeriod PT24H is longer than the interval \(PT12H\)$/,
    ],
    [
      'a default grace longer than the interval',
      { interval: 'P1D' },
      { type: 'password' },
      'gracePeriod',
      /the default gracePeriod of a password credential \(PT48H\) is longer than the interval \(P1D\): give a shorter gracePeriod/,
    ],
    [
      'a grace longer than the default interval',
      { gracePeriod: 'P31D' },
      { type: 'password' },
      'gracePeriod',
      /gracePeriod P31D is longer than the default interval of a password credential \(P30D\)/,
    ],
    [
      'a grace longer than the gap of a daily schedule',
      { schedule: '0 3 * * *', gracePeriod: 'PT25H' },
      { type: 'api_key' },
      'gracePeriod',
      /longer than the shortest time between two fires of the schedule \(P1D\)/,
    ],
    [
      'a grace longer than the short gap of an uneven schedule',
      { schedule: '0 0 1,2 * *', gracePeriod: 'PT36H' },
      { type: 'api_key' },
      'gracePeriod',
      /\(P1D\)/,
    ],
    [
      'a default grace longer than a pattern interval, for some type',
      { interval: 'PT36H' },
      { type: null },
      'gracePeriod',
      /the default gracePeriod of password credentials \(PT48H\)/,
    ],
  ])('should refuse %s with a 400 naming the field', (_case, input, target, field, message) => {
    const fields = refusal(input as Partial<PolicyInput>, target as PolicyTarget);

    expect(fields).toEqual([{ field, errors: [expect.stringMatching(message)] }]);
  });

  it('should check a pattern policy only against the types its rotator can rotate', () => {
    // PT36H is shorter than the default grace of passwords (PT48H) only: generated rotates
    // passwords, so this is refused, but the same policy with the types' graces explicit is not.
    expect(() =>
      sut.check({ ...MINIMAL, interval: 'PT36H', gracePeriod: 'PT24H' }, { type: null }, NOW),
    ).not.toThrow();
    expect(() => sut.check({ ...MINIMAL, gracePeriod: 'P31D' }, { type: null }, NOW)).toThrow(
      /default interval of password credentials \(P30D\)/,
    );
  });

  it('should follow ROTATION_DEFAULTS', () => {
    const configured = new RotationPolicyValidator(
      new RotatorRegistry(),
      loadRotationConfig({
        ROTATION_DEFAULTS: '{"api_key":{"interval":"PT2H","gracePeriod":"PT1H"}}',
      }),
    );
    expect(() =>
      configured.check({ ...MINIMAL, gracePeriod: 'PT90M' }, { type: 'api_key' }, NOW),
    ).not.toThrow();
    expect(() =>
      configured.check({ ...MINIMAL, gracePeriod: 'PT3H' }, { type: 'api_key' }, NOW),
    ).toThrow(/default interval of a api_key credential \(PT2H\)/);
  });
});
