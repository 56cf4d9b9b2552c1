import 'reflect-metadata';
import { plainToInstance, Type } from 'class-transformer';
import {
  IsEmail,
  IsInt,
  IsString,
  Max,
  MinLength,
  ValidateNested,
  validateSync,
} from 'class-validator';
import { DomainError } from '../errors/domain-error';
import { RequestValidationError } from './request-validation.error';

class Address {
  @IsString()
  @MinLength(2)
  city!: string;
}

class Owner {
  @IsEmail()
  email!: string;

  @ValidateNested()
  @Type(() => Address)
  address!: Address;
}

class Body {
  @IsString()
  name!: string;

  @IsInt()
  @Max(10)
  count!: number;

  @ValidateNested()
  @Type(() => Owner)
  owner!: Owner;

  @ValidateNested({ each: true })
  @Type(() => Owner)
  deputies: Owner[] = [];
}

function validationErrorFor(plain: Record<string, unknown>): RequestValidationError {
  const errors = validateSync(plainToInstance(Body, plain));
  return RequestValidationError.fromValidationErrors(errors);
}

describe('RequestValidationError', () => {
  it('should flatten nested errors into dotted field paths', () => {
    const sut = validationErrorFor({
      name: 'ok',
      count: 3,
      owner: { email: 'not-an-email', address: { city: 'X' } },
    });
    expect(sut.fields).toEqual([
      { field: 'owner.email', errors: ['email must be an email'] },
      {
        field: 'owner.address.city',
        errors: ['city must be longer than or equal to 2 characters'],
      },
    ]);
  });

  it('should keep top-level and nested errors together, each constraint listed', () => {
    const sut = validationErrorFor({
      name: 42,
      count: 'many',
      owner: { email: 'a@b.example', address: { city: 'Lyon' } },
    });
    expect(sut.fields).toEqual([
      { field: 'name', errors: ['name must be a string'] },
      {
        field: 'count',
        errors: expect.arrayContaining([
          'count must be an integer number',
          'count must not be greater than 10',
        ]),
      },
    ]);
    expect(sut.fields[1].errors).toHaveLength(2);
  });

  it('should use array indexes as path segments', () => {
    const sut = validationErrorFor({
      name: 'ok',
      count: 1,
      owner: { email: 'a@b.example', address: { city: 'Lyon' } },
      deputies: [
        { email: 'c@d.example', address: { city: 'Oslo' } },
        { email: 'bad', address: { city: 'Rome' } },
      ],
    });
    expect(sut.fields).toEqual([{ field: 'deputies.1.email', errors: ['email must be an email'] }]);
  });

  it('should report nothing when the body is valid', () => {
    const sut = validationErrorFor({
      name: 'ok',
      count: 1,
      owner: { email: 'a@b.example', address: { city: 'Lyon' } },
    });
    expect(sut.fields).toEqual([]);
  });

  it('should be an invalid DomainError whose message lists the fields', () => {
    const sut = new RequestValidationError([
      { field: 'name', errors: ['name must be a string'] },
      { field: 'owner.email', errors: ['email must be an email', 'too long'] },
    ]);
    expect(sut).toBeInstanceOf(DomainError);
    expect(sut.kind).toBe('invalid');
    expect(sut.name).toBe('RequestValidationError');
    expect(sut.message).toBe(
      'Validation failed: name (name must be a string), owner.email (email must be an email; too long)',
    );
  });
});
