import 'reflect-metadata';
import { ArgumentMetadata } from '@nestjs/common';
import { IsObject, IsOptional, IsString } from 'class-validator';
import { RequestValidationError } from './request-validation.error';
import { createValidationPipe, shadowedKeys } from './validation-pipe';

class WriteDto {
  @IsString()
  name!: string;

  @IsOptional()
  @IsObject()
  secret?: Record<string, unknown>;
}

class OptionalDto {
  @IsOptional()
  @IsString()
  reason?: string;
}

const body = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({
  type: 'body',
  metatype,
});

describe('the validation pipe', () => {
  const sut = createValidationPipe();
  const fieldsOf = (work: Promise<unknown>) =>
    work.then(
      () => undefined,
      (error: unknown) => {
        expect(error).toBeInstanceOf(RequestValidationError);
        return (error as RequestValidationError).fields;
      },
    );

  it.each(['constructor', 'toString', 'valueOf', 'hasOwnProperty', 'prototype', '__proto__'])(
    'should refuse a field named %s instead of dropping it',
    async (key) => {
      const value = JSON.parse(`{"name":"n",${JSON.stringify(key)}:"x"}`) as object;
      if (key === '__proto__') Object.defineProperty(value, key, { value: 'x', enumerable: true });
      await expect(fieldsOf(sut.transform(value, body(WriteDto)))).resolves.toEqual([
        { field: key, errors: [`property ${key} should not exist`] },
      ]);
    },
  );

  it('should refuse such keys at any depth, inside the secret too', async () => {
    const value = { name: 'n', secret: { password: 'p', toString: 'x', nested: [{ valueOf: 1 }] } };
    await expect(fieldsOf(sut.transform(value, body(WriteDto)))).resolves.toEqual([
      { field: 'secret.toString', errors: ['property toString should not exist'] },
      { field: 'secret.nested.0.valueOf', errors: ['property valueOf should not exist'] },
    ]);
  });

  it.each([
    ['no prototype', () => Object.create(null) as object],
    // fast-querystring's, for speed: its prototype has no prototype.
    ['a prototype of its own', () => Object.create(Object.create(null) as object) as object],
  ])('should refuse them in a query string object with %s', async (_case, make) => {
    const query = Object.assign(make(), { reason: 'r', constructor: '1' });
    await expect(
      fieldsOf(sut.transform(query, { type: 'query', metatype: OptionalDto })),
    ).resolves.toEqual([
      { field: 'constructor', errors: ['property constructor should not exist'] },
    ]);
  });

  it('should still refuse other unknown fields through the whitelist', async () => {
    await expect(
      fieldsOf(sut.transform({ name: 'n', role: 'admin' }, body(WriteDto))),
    ).resolves.toEqual([{ field: 'role', errors: ['property role should not exist'] }]);
  });

  it('should pass a body that names no such key', async () => {
    const value = { name: 'n', secret: { password: 'p', constructorName: 'ok' } };
    await expect(sut.transform(value, body(WriteDto))).resolves.toBeInstanceOf(WriteDto);
  });

  it('should say a body is required before naming the fields a missing body lacks', async () => {
    await expect(fieldsOf(sut.transform(undefined, body(WriteDto)))).resolves.toEqual([
      { field: '(body)', errors: ['a JSON body is required'] },
      { field: 'name', errors: [expect.stringMatching(/name must be a string/)] },
    ]);
  });

  it('should take a missing body where every field is optional', async () => {
    await expect(sut.transform(undefined, body(OptionalDto))).resolves.toBeInstanceOf(OptionalDto);
  });

  it('should leave values it does not validate alone', async () => {
    const raw = { toString: 'x' };
    await expect(sut.transform(raw, { type: 'custom', metatype: Object })).resolves.toBe(raw);
  });
});

describe('the validation pipe that drops unknown fields', () => {
  const sut = createValidationPipe({ unknownFields: 'drop' });

  it('should drop an unknown field instead of refusing it, and keep the free-form object whole', async () => {
    const value = { name: 'n', role: 'admin', secret: { password: 'p', extra: 'kept' } };

    const result = await sut.transform(value, body(WriteDto));

    expect(result).toBeInstanceOf(WriteDto);
    expect({ ...(result as WriteDto) }).toEqual({
      name: 'n',
      secret: { password: 'p', extra: 'kept' },
    });
  });

  it('should still refuse a prototype key, and a field of the wrong type', async () => {
    await expect(
      sut.transform(JSON.parse('{"name":"n","constructor":1}'), body(WriteDto)),
    ).rejects.toBeInstanceOf(RequestValidationError);
    await expect(sut.transform({ name: 1 }, body(WriteDto))).rejects.toBeInstanceOf(
      RequestValidationError,
    );
  });
});

describe('shadowedKeys', () => {
  it('should look into plain objects and arrays only', () => {
    expect(shadowedKeys([{ a: { valueOf: 1 } }, new Map([['toString', 1]])])).toEqual([
      { field: '0.a.valueOf', errors: ['property valueOf should not exist'] },
    ]);
  });

  it.each([undefined, null, 'constructor', 3])('should find nothing in %p', (value) => {
    expect(shadowedKeys(value)).toEqual([]);
  });
});
